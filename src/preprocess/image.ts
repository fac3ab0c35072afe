/**
 * Image decoding in Node (sharp, loaded on first use) and model-input
 * preparation.
 */
import { stat } from 'node:fs/promises';
import type { OutputInfo } from 'sharp';
import { resizeBilinearHalfPixel } from './resize.js';
import { ImageError, sha256Hex, type RgbImage } from './pixels.js';

export { ImageError, type RgbImage };

/** The first line of a decoder's message (libvips adds lines of detail that repeat it). */
function firstLine(message: string): string {
  return message.split('\n').find((l) => l.trim() !== '') ?? message;
}

/**
 * Decodes JPEG/PNG/WebP/GIF/TIFF/AVIF — a file path or the encoded bytes — to
 * RGB uint8 at the source size, the way the reference engines did:
 * `sharp(input).removeAlpha().raw()`, no EXIF rotation, no colour conversion.
 * Grey images are expanded to RGB. `name` names the image in errors.
 */
export async function decodeImage(
  input: string | Uint8Array,
  name = typeof input === 'string' ? input : 'image bytes',
): Promise<RgbImage> {
  if (typeof input === 'string') {
    const kind = await stat(input).then(
      (s) => (s.isFile() ? 'file' : s.isDirectory() ? 'a directory' : 'not a regular file'),
      () => 'missing',
    );
    if (kind === 'missing') throw new ImageError(`cannot read image '${name}': no such file`);
    if (kind !== 'file') throw new ImageError(`cannot read image '${name}': it is ${kind}`);
  }
  const { default: sharp } = await import('sharp');
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(input, { failOn: 'error' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError(
      `cannot decode image '${name}': ${firstLine((e as Error).message)} (lowwater reads JPEG, PNG, WebP, GIF, TIFF and AVIF through sharp)`,
    );
  }
  const { width, height, channels } = out.info;
  const src = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  if (channels === 3) return { width, height, data: src };
  if (channels === 1) {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = src[i]!;
    return { width, height, data: rgb };
  }
  throw new ImageError(`image '${name}' decodes to ${channels} channels; lowwater needs RGB or grey`);
}

/** Resizes the whole image (no crop, aspect not kept) to width×height with TF's half-pixel bilinear rule. */
export function resizeForModel(img: RgbImage, width: number, height: number): Uint8Array {
  return resizeBilinearHalfPixel(img.data, img.width, img.height, 3, width, height);
}

/** Decoded, resized model-input bytes (uint8 RGB) and their sha256. */
export async function loadModelInput(
  file: string,
  width: number,
  height: number,
): Promise<{ bytes: Uint8Array; sha256: string; sourceWidth: number; sourceHeight: number }> {
  const img = await decodeImage(file);
  const bytes = resizeForModel(img, width, height);
  return { bytes, sha256: await sha256Hex(bytes), sourceWidth: img.width, sourceHeight: img.height };
}
