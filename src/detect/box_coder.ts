/**
 * The center-size box coder of SSD (TF object detection `FasterRcnnBoxCoder`,
 * TFLite_Detection_PostProcess): an encoding (ty, tx, th, tw) relative to an
 * anchor (ya, xa, ha, wa) with scale factors (sy, sx, sh, sw), default 10, 10, 5, 5:
 *
 *   ycenter = ty/sy · ha + ya      h = exp(th/sh) · ha
 *   xcenter = tx/sx · wa + xa      w = exp(tw/sw) · wa
 *
 * decoded to corners (ymin, xmin, ymax, xmax) = centre ∓ size/2. Computed in
 * float64 and rounded to float32, as TFLite does.
 */

export interface BoxScales {
  y: number;
  x: number;
  h: number;
  w: number;
}

export const SSD_BOX_SCALES: Readonly<BoxScales> = { y: 10, x: 10, h: 5, w: 5 };

/**
 * Decodes `n` encodings (`codeSize` ≥ 4 values each; the first four are the
 * box, as TFLite reads keypoint encodings) against center-size anchors
 * (4 values each). Returns corners, 4 float32 per box.
 */
export function decodeCenterSizeBoxes(
  encodings: ArrayLike<number>,
  anchors: ArrayLike<number>,
  scales: BoxScales = SSD_BOX_SCALES,
  codeSize = 4,
): Float32Array {
  if (!(Number.isInteger(codeSize) && codeSize >= 4))
    throw new Error(`box decoding: code size ${codeSize} must be ≥ 4`);
  const n = encodings.length / codeSize;
  if (!Number.isInteger(n))
    throw new Error(
      `box decoding: ${encodings.length} encoding values are not a multiple of the code size ${codeSize}`,
    );
  if (anchors.length !== 4 * n) throw new Error(`box decoding: ${n} boxes but ${anchors.length / 4} anchors`);
  for (const k of ['y', 'x', 'h', 'w'] as const)
    if (!(scales[k] !== 0 && Number.isFinite(scales[k])))
      throw new Error(`box decoding: ${k}_scale ${scales[k]} must be a non-zero number`);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const e = i * codeSize;
    const a = 4 * i;
    const [ya, xa, ha, wa] = [anchors[a]!, anchors[a + 1]!, anchors[a + 2]!, anchors[a + 3]!];
    const yc = Math.fround((encodings[e]! / scales.y) * ha + ya);
    const xc = Math.fround((encodings[e + 1]! / scales.x) * wa + xa);
    const hh = Math.fround(0.5 * Math.exp(encodings[e + 2]! / scales.h) * ha);
    const hw = Math.fround(0.5 * Math.exp(encodings[e + 3]! / scales.w) * wa);
    out[a] = yc - hh;
    out[a + 1] = xc - hw;
    out[a + 2] = yc + hh;
    out[a + 3] = xc + hw;
  }
  return out;
}

/** The inverse: encodings (ty, tx, th, tw) of corner boxes against center-size anchors. */
export function encodeCenterSizeBoxes(
  corners: ArrayLike<number>,
  anchors: ArrayLike<number>,
  scales: BoxScales = SSD_BOX_SCALES,
): Float64Array {
  if (corners.length !== anchors.length || corners.length % 4 !== 0)
    throw new Error(`box encoding: ${corners.length / 4} boxes but ${anchors.length / 4} anchors`);
  const out = new Float64Array(corners.length);
  for (let i = 0; i < corners.length; i += 4) {
    const [ymin, xmin, ymax, xmax] = [corners[i]!, corners[i + 1]!, corners[i + 2]!, corners[i + 3]!];
    const [ya, xa, ha, wa] = [anchors[i]!, anchors[i + 1]!, anchors[i + 2]!, anchors[i + 3]!];
    out[i] = (((ymin + ymax) / 2 - ya) / ha) * scales.y;
    out[i + 1] = (((xmin + xmax) / 2 - xa) / wa) * scales.x;
    out[i + 2] = Math.log((ymax - ymin) / ha) * scales.h;
    out[i + 3] = Math.log((xmax - xmin) / wa) * scales.w;
  }
  return out;
}
