/**
 * Images as the runtime-neutral core takes them: RGB bytes at the source size.
 * Decoding encoded files is each entry's job (Node: sharp; web: pure JS
 * decoders); this file turns raw pixels into RGB and sniffs formats.
 */
import type { ImageDataLike, Pixels } from '../api/types.js';

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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** A Pixels or ImageData-like object (data + width + height), as opposed to encoded bytes or a path. */
export function isPixels(v: unknown): v is Pixels | ImageDataLike {
  return (
    isRecord(v) &&
    !ArrayBuffer.isView(v) &&
    'data' in v &&
    'width' in v &&
    'height' in v &&
    (v.data instanceof Uint8Array || v.data instanceof Uint8ClampedArray)
  );
}

/**
 * RGB bytes of raw pixels. Channels come from `channels` when given, else from
 * the data's length (ImageData is RGBA); alpha is dropped as sharp's
 * removeAlpha() drops it, so the same picture gives the same bytes either way.
 */
export function pixelsToRgb(p: Pixels | ImageDataLike, what = 'pixels'): RgbImage {
  const { width, height, data } = p;
  if (!(Number.isInteger(width) && width >= 1 && Number.isInteger(height) && height >= 1))
    throw new ImageError(`${what}: width ${width} and height ${height} must be whole numbers ≥ 1`);
  const declared = 'channels' in p ? (p as Pixels).channels : undefined;
  const channels = declared ?? data.length / (width * height);
  if (channels !== 3 && channels !== 4)
    throw new ImageError(
      declared === undefined
        ? `${what}: ${data.length} bytes for ${width}x${height} is not 3 or 4 bytes per pixel`
        : `${what}: channels is ${declared}; lowwater takes 3 (RGB) or 4 (RGBA)`,
    );
  if (data.length !== width * height * channels)
    throw new ImageError(
      `${what}: ${data.length} bytes, but ${width}x${height}x${channels} needs ${width * height * channels}`,
    );
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 3) return { width, height, data: bytes };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < rgb.length; i += 4, o += 3) {
    rgb[o] = bytes[i]!;
    rgb[o + 1] = bytes[i + 1]!;
    rgb[o + 2] = bytes[i + 2]!;
  }
  return { width, height, data: rgb };
}

/** The encoded format of image bytes, by their signature. */
export function sniffImageFormat(b: Uint8Array): 'png' | 'jpeg' | 'gif' | 'webp' | undefined {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (
    b.length >= 12 &&
    b[0] === 0x52 &&
    b[1] === 0x49 &&
    b[2] === 0x46 &&
    b[3] === 0x46 &&
    b[8] === 0x57 &&
    b[9] === 0x45
  )
    return 'webp';
  return undefined;
}

/** Hex sha256 of bytes, with the platform's WebCrypto (Node 20, browsers, Deno, workerd). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
