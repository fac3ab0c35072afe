/**
 * Image decoding (sharp) and model-input preparation.
 */
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { resizeBilinearHalfPixel } from './resize.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/**
 * Decodes JPEG/PNG/WebP/… to RGB uint8 at the source size, the way the
 * reference engines did: `sharp(file).removeAlpha().raw()`, no EXIF rotation,
 * no colour conversion. Grey images are expanded to RGB.
 */
export async function decodeImage(file: string): Promise<RgbImage> {
  try {
    await access(file);
  } catch {
    throw new ImageError(`cannot read image '${file}': no such file`);
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(file, { failOn: 'error' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError(
      `cannot decode image '${file}': ${(e as Error).message} (lowwater reads JPEG, PNG, WebP, GIF, TIFF and AVIF through sharp)`,
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
  throw new ImageError(`image '${file}' decodes to ${channels} channels; lowwater needs RGB or grey`);
}

/** Resizes the whole image (no crop, aspect not kept) to width×height with TF's half-pixel bilinear rule. */
export function resizeForModel(img: RgbImage, width: number, height: number): Uint8Array {
  return resizeBilinearHalfPixel(img.data, img.width, img.height, 3, width, height);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Decoded, resized model-input bytes (uint8 RGB) and their sha256. */
export async function loadModelInput(
  file: string,
  width: number,
  height: number,
): Promise<{ bytes: Uint8Array; sha256: string; sourceWidth: number; sourceHeight: number }> {
  const img = await decodeImage(file);
  const bytes = resizeForModel(img, width, height);
  return { bytes, sha256: sha256Hex(bytes), sourceWidth: img.width, sourceHeight: img.height };
}
