/**
 * Class maps: one class id per pixel, one byte each, row-major. Built from a
 * segmentation model's output, counted, hashed, resampled and compared with
 * ground truth.
 */
import { sha256Hex } from '../preprocess/pixels.js';
import { describeShape } from '../../planner/ir.js';

export interface ClassMap {
  width: number;
  height: number;
  /** Class id of pixel (x, y) at ids[y·width + x]. */
  ids: Uint8Array;
}

/**
 * The class map of a model output:
 * - [1,H,W] or [1,H,W,1]: class ids already (an ARG_MAX output);
 * - [1,H,W,C] with C > 1: scores per class, reduced by arg-max over C with the
 *   first maximum winning (ties go to the lower class id, as TFLite's ARG_MAX).
 */
export function classMapFromOutput(
  values: ArrayLike<number>,
  shape: readonly number[],
  what = 'model output',
): ClassMap {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`${what}: ${values.length} values for shape ${describeShape(shape)}`);
  const s = shape[0] === 1 && (shape.length === 3 || shape.length === 4) ? shape.slice(1) : [];
  if (s.length === 3 && s[2] === 1) s.pop();
  if (s.length === 2) {
    const [height, width] = s as [number, number];
    const ids = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!(Number.isInteger(v) && v >= 0 && v <= 255))
        throw new Error(`${what}: value ${v} at pixel ${i} is not a class id 0..255`);
      ids[i] = v;
    }
    return { width, height, ids };
  }
  if (s.length === 3) {
    const [height, width, classes] = s as [number, number, number];
    if (classes > 256) throw new Error(`${what}: ${classes} classes do not fit a one-byte class map`);
    const ids = new Uint8Array(height * width);
    for (let p = 0, o = 0; p < ids.length; p++, o += classes) {
      let best = 0;
      let bv = values[o]!;
      for (let c = 1; c < classes; c++) {
        const v = values[o + c]!;
        if (v > bv) {
          bv = v;
          best = c;
        }
      }
      ids[p] = best;
    }
    return { width, height, ids };
  }
  throw new Error(
    `${what} has shape ${describeShape(shape)}; a segmentation model ends with class ids [1,H,W] or class scores [1,H,W,C]`,
  );
}

/** Pixels per class id (length 256). */
export function classHistogram(map: ClassMap): Float64Array {
  const h = new Float64Array(256);
  for (let i = 0; i < map.ids.length; i++) h[map.ids[i]!]!++;
  return h;
}

/** {label: pixels} for every class present, in class-id order; labels[c] names class c (else "class c"). */
export function classCounts(map: ClassMap, labels?: readonly string[]): Record<string, number> {
  const h = classHistogram(map);
  const out: Record<string, number> = {};
  for (let c = 0; c < 256; c++) {
    if (h[c] === 0) continue;
    const name = labels?.[c] || `class ${c}`;
    out[name] = (out[name] ?? 0) + h[c]!;
  }
  return out;
}

/** sha256 of the ids, one byte per pixel, row-major (the references' `argmax_sha256_uint8`). */
export function classMapSha256(map: ClassMap): Promise<string> {
  return sha256Hex(map.ids);
}

/**
 * Nearest-neighbour resampling sampled at pixel centres:
 * source row floor((y + 0.5)·H/height), column floor((x + 0.5)·W/width)
 * (the references' mask comparison rule).
 */
export function resizeNearest(map: ClassMap, width: number, height: number): ClassMap {
  if (width === map.width && height === map.height) return { width, height, ids: map.ids.slice() };
  const cols = new Int32Array(width);
  for (let x = 0; x < width; x++) cols[x] = Math.min(map.width - 1, Math.floor(((x + 0.5) * map.width) / width));
  const ids = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(map.height - 1, Math.floor(((y + 0.5) * map.height) / height)) * map.width;
    for (let x = 0; x < width; x++) ids[y * width + x] = map.ids[row + cols[x]!]!;
  }
  return { width, height, ids };
}

export interface Agreement {
  /** Fraction of ground-truth pixels whose predicted class equals the truth. */
  pixelAgreement: number;
  pixelsAgree: number;
  pixelsTotal: number;
  /** Intersection over union per class present in either map, by class id. */
  iou: Record<number, number>;
}

/** Compares a prediction with a ground-truth map; the prediction is sampled at the truth's pixel centres. */
export function compareWithTruth(prediction: ClassMap, truth: ClassMap): Agreement {
  const p = resizeNearest(prediction, truth.width, truth.height).ids;
  const t = truth.ids;
  let agree = 0;
  const inter = new Float64Array(256);
  const union = new Float64Array(256);
  for (let i = 0; i < t.length; i++) {
    const a = p[i]!;
    const b = t[i]!;
    if (a === b) {
      agree++;
      inter[a]!++;
      union[a]!++;
    } else {
      union[a]!++;
      union[b]!++;
    }
  }
  const iou: Record<number, number> = {};
  for (let c = 0; c < 256; c++) if (union[c]! > 0) iou[c] = inter[c]! / union[c]!;
  return { pixelAgreement: agree / t.length, pixelsAgree: agree, pixelsTotal: t.length, iou };
}
