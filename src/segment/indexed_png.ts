/**
 * A minimal encoder for 8-bit indexed-colour PNGs (PNG spec, colour type 3):
 * each pixel byte is the class id and the PLTE chunk maps ids to colours, the
 * way PASCAL VOC stores its SegmentationClass masks. Image viewers show the
 * colours; tools that read indices (PIL's mode "P") get the class ids back.
 */
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * PNG bytes of a width×height image of palette indices (row-major, one byte
 * per pixel). `palette` holds RGB triples (at most 256); every index must
 * have an entry.
 */
export function encodeIndexedPng(width: number, height: number, indices: Uint8Array, palette: Uint8Array): Buffer {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new Error(`indexed PNG: bad size ${width}x${height}`);
  if (indices.length !== width * height)
    throw new Error(`indexed PNG: ${indices.length} indices for ${width}x${height} pixels`);
  const entries = palette.length / 3;
  if (!Number.isInteger(entries) || entries < 1 || entries > 256)
    throw new Error(`indexed PNG: palette of ${palette.length} bytes is not 1..256 RGB triples`);
  let max = 0;
  for (let i = 0; i < indices.length; i++) if (indices[i]! > max) max = indices[i]!;
  if (max >= entries) throw new Error(`indexed PNG: index ${max} has no palette entry (${entries} entries)`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: indexed
  // compression, filter method, interlace: 0
  const raw = new Uint8Array((width + 1) * height); // filter type 0 (None) before each row
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('PLTE', palette),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
