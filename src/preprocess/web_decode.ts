/**
 * Decoding PNG and JPEG without the DOM, for browsers' workers, edge workers
 * (no canvas there) and Deno: fast-png (MIT, pure JS; inflate by fflate) and
 * jpeg-js (BSD-3-Clause, pure JS). Both are loaded on first use, so a caller
 * who passes pixels never loads them.
 *
 * PNG is lossless: the bytes equal sharp's for 8-bit images (alpha dropped,
 * grey and palette expanded to RGB; 16-bit samples keep their high byte).
 * JPEG decoders may differ from libjpeg-turbo (sharp) by ±1 in some pixels:
 * the same top-1 is expected, not the same bytes.
 */
import { ImageError, sniffImageFormat, type RgbImage } from './pixels.js';

/** RGB of decoded PNG samples: `channels` per pixel (grey, grey+alpha, RGB, RGBA), 8 or 16 bits. */
function pngToRgb(
  width: number,
  height: number,
  channels: number,
  samples: ArrayLike<number>,
  shift: number,
): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const n = width * height;
  for (let p = 0; p < n; p++) {
    const i = p * channels;
    const o = p * 3;
    if (channels >= 3) {
      rgb[o] = samples[i]! >> shift;
      rgb[o + 1] = samples[i + 1]! >> shift;
      rgb[o + 2] = samples[i + 2]! >> shift;
    } else rgb[o] = rgb[o + 1] = rgb[o + 2] = samples[i]! >> shift;
  }
  return rgb;
}

async function decodePng(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const { decode, convertIndexedToRgb } = await import('fast-png');
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new ImageError(`cannot decode PNG '${name}': ${(e as Error).message}`);
  }
  const { width, height } = png;
  if (png.palette) {
    const rgba = convertIndexedToRgb(png);
    const per = rgba.length / (width * height);
    return { width, height, data: pngToRgb(width, height, per, rgba, 0) };
  }
  return { width, height, data: pngToRgb(width, height, png.channels, png.data, png.depth === 16 ? 8 : 0) };
}

async function decodeJpeg(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const { default: decode } = await import('jpeg-js/lib/decoder.js');
  try {
    const img = decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxMemoryUsageInMB: 1024,
    });
    return { width: img.width, height: img.height, data: img.data };
  } catch (e) {
    throw new ImageError(`cannot decode JPEG '${name}': ${(e as Error).message ?? String(e)}`);
  }
}

/** Decodes PNG or JPEG bytes to RGB; other formats are refused with what to do instead. */
export async function decodeImageBytes(bytes: Uint8Array, name = 'image bytes'): Promise<RgbImage> {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, name);
  if (format === 'jpeg') return decodeJpeg(bytes, name);
  throw new ImageError(
    `cannot decode '${name}': ${format ? `${format.toUpperCase()} is` : 'these bytes are'} not PNG or JPEG, which the web entry decodes; pass decoded pixels ({ data, width, height, channels }) or ImageData instead`,
  );
}
