/**
 * Drawing detections over an image: one SVG layer (a rectangle and a label per
 * box) composited with sharp.
 */
import type { RgbImage } from '../preprocess/image.js';

export interface PixelBox {
  label: string;
  classId: number;
  score: number;
  /** Pixel edges in the image: left ≤ right, top ≤ bottom. */
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A colour per class id, spread around the hue circle by the golden angle. */
export function classColour(classId: number): string {
  const hue = (classId * 137.508) % 360;
  return `hsl(${hue.toFixed(1)}, 85%, 50%)`;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The SVG layer: a rectangle per box and its "label score" above it (inside when at the top edge). */
export function detectionsSvg(width: number, height: number, boxes: readonly PixelBox[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(10, Math.round(Math.min(width, height) / 40));
  const parts = boxes.map((b) => {
    const colour = classColour(b.classId);
    const text = escapeXml(`${b.label} ${b.score.toFixed(2)}`);
    const tw = Math.ceil(text.length * font * 0.6) + 6;
    const ty = b.top >= font + 4 ? b.top - font - 4 : b.top;
    return (
      `<rect x="${b.left.toFixed(1)}" y="${b.top.toFixed(1)}" width="${(b.right - b.left).toFixed(1)}" height="${(b.bottom - b.top).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${b.left.toFixed(1)}" y="${ty.toFixed(1)}" width="${tw}" height="${font + 4}" fill="${colour}"/>` +
      `<text x="${(b.left + 3).toFixed(1)}" y="${(ty + font).toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="white">${text}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes the image with the boxes drawn over it (format from the file extension). */
export async function drawDetections(file: string, image: RgbImage, boxes: readonly PixelBox[]): Promise<void> {
  const { width, height } = image;
  const svg = Buffer.from(detectionsSvg(width, height, boxes));
  const { default: sharp } = await import('sharp');
  await sharp(image.data, { raw: { width, height, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .toFile(file);
}
