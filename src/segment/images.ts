/**
 * Class maps as image files: the mask PNG (indexed, VOC palette), ground-truth
 * masks read back, and the overlay of a class map over the original image.
 */
import { writeFile } from 'node:fs/promises';
import type { OutputInfo } from 'sharp';
import { ImageError, type RgbImage } from '../preprocess/image.js';
import { resizeNearest, type ClassMap } from './class_map.js';
import { encodeIndexedPng } from './indexed_png.js';
import { vocPalette } from './palette.js';

const PALETTE = vocPalette();

/** Writes `map` as an indexed PNG with the PASCAL VOC palette (pixel value = class id). */
export async function writeMaskPng(file: string, map: ClassMap): Promise<void> {
  await writeFile(file, encodeIndexedPng(map.width, map.height, map.ids, PALETTE));
}

/**
 * Reads a class-id mask: a grey image holds the ids as its values (the fixture
 * masks); a colour image (a VOC-palette PNG, decoded to RGB by sharp) is mapped
 * back through the VOC palette, and a colour outside it is an error.
 */
export async function readClassMask(file: string): Promise<ClassMap> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    const { default: sharp } = await import('sharp');
    out = await sharp(file, { failOn: 'error' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError(`cannot decode mask '${file}': ${(e as Error).message}`);
  }
  const { width, height, channels } = out.info;
  const src = out.data;
  const ids = new Uint8Array(width * height);
  const grey = channels === 1 || isGrey(src, channels);
  if (grey) {
    for (let i = 0; i < ids.length; i++) ids[i] = src[i * channels]!;
    return { width, height, ids };
  }
  const byColour = new Map<number, number>();
  for (let c = 255; c >= 0; c--)
    byColour.set((PALETTE[3 * c]! << 16) | (PALETTE[3 * c + 1]! << 8) | PALETTE[3 * c + 2]!, c);
  for (let i = 0; i < ids.length; i++) {
    const o = i * channels;
    const id = byColour.get((src[o]! << 16) | (src[o + 1]! << 8) | src[o + 2]!);
    if (id === undefined)
      throw new ImageError(
        `mask '${file}': pixel (${i % width}, ${Math.floor(i / width)}) has colour (${src[o]}, ${src[o + 1]}, ${src[o + 2]}), which is not in the PASCAL VOC palette`,
      );
    ids[i] = id;
  }
  return { width, height, ids };
}

function isGrey(data: Uint8Array, channels: number): boolean {
  for (let i = 0; i < data.length; i += channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

export interface OverlayOptions {
  /** Opacity of the class colours, 0..1 (default 0.5). Background (class 0) is left clear. */
  alpha?: number;
}

/**
 * The RGBA layer of an overlay at the image's size: the class map resampled
 * with nearest neighbour at pixel centres, VOC colours at opacity `alpha`,
 * background transparent.
 */
export function overlayLayer(map: ClassMap, width: number, height: number, alpha: number): Uint8Array {
  const m = resizeNearest(map, width, height).ids;
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < m.length; i++) {
    const c = m[i]!;
    if (c === 0) continue;
    rgba.set([PALETTE[3 * c]!, PALETTE[3 * c + 1]!, PALETTE[3 * c + 2]!, a], 4 * i);
  }
  return rgba;
}

/** Blends the class colours over the original image with sharp and writes it (format from the file extension). */
export async function writeOverlay(
  file: string,
  image: RgbImage,
  map: ClassMap,
  options: OverlayOptions = {},
): Promise<void> {
  const { width, height } = image;
  const layer = overlayLayer(map, width, height, options.alpha ?? 0.5);
  const { default: sharp } = await import('sharp');
  await sharp(image.data, { raw: { width, height, channels: 3 } })
    .composite([
      { input: Buffer.from(layer.buffer, layer.byteOffset, layer.byteLength), raw: { width, height, channels: 4 } },
    ])
    .toFile(file);
}
