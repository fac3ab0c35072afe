/**
 * Greedy non-maximum suppression with TFLite_Detection_PostProcess semantics:
 * - candidates are boxes with score ≥ the score threshold;
 * - they are visited by decreasing score (ties: lower box index first, TFLite's
 *   stable sort);
 * - a visited box is kept unless a kept box overlaps it with IoU strictly
 *   greater than the IoU threshold; at most maxDetections are kept;
 * - IoU of boxes (ymin, xmin, ymax, xmax) is 0 when either has no area.
 *
 * Two multi-class forms:
 * - per class ("regular", use_regular_nms): NMS separately in every class
 *   (detectionsPerClass each), then the best maxDetections of all of them;
 * - class-agnostic ("fast", the default of the op): NMS once on each box's best
 *   class score, then each kept box reports its maxClassesPerDetection best classes.
 */

export interface NmsOptions {
  iouThreshold: number;
  scoreThreshold: number;
  maxDetections: number;
}

export interface Detection {
  /** Box index (anchor). */
  box: number;
  /** Class id, background excluded (0 = the first real class). */
  classId: number;
  score: number;
}

function checkOptions(o: NmsOptions): void {
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1))
    throw new Error(`NMS: IoU threshold ${o.iouThreshold} must be in (0, 1]`);
  if (!(Number.isInteger(o.maxDetections) && o.maxDetections >= 0))
    throw new Error(`NMS: max detections ${o.maxDetections} must be a non-negative integer`);
  if (Number.isNaN(o.scoreThreshold)) throw new Error('NMS: score threshold is NaN');
}

/** Intersection over union of boxes i and j of a corner array (4 values per box). */
export function iou(boxes: ArrayLike<number>, i: number, j: number): number {
  const [ay0, ax0, ay1, ax1] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
  const [by0, bx0, by1, bx1] = [boxes[4 * j]!, boxes[4 * j + 1]!, boxes[4 * j + 2]!, boxes[4 * j + 3]!];
  const areaA = (ay1 - ay0) * (ax1 - ax0);
  const areaB = (by1 - by0) * (bx1 - bx0);
  if (areaA <= 0 || areaB <= 0) return 0;
  const ih = Math.max(Math.min(ay1, by1) - Math.max(ay0, by0), 0);
  const iw = Math.max(Math.min(ax1, bx1) - Math.max(ax0, bx0), 0);
  const inter = ih * iw;
  return inter / (areaA + areaB - inter);
}

/** Kept box indices in selection order (decreasing score). `scores[i]` scores box i. */
export function nmsSingleClass(boxes: ArrayLike<number>, scores: ArrayLike<number>, options: NmsOptions): number[] {
  checkOptions(options);
  const n = scores.length;
  if (boxes.length !== 4 * n) throw new Error(`NMS: ${boxes.length / 4} boxes but ${n} scores`);
  const cand: number[] = [];
  for (let i = 0; i < n; i++) if (scores[i]! >= options.scoreThreshold) cand.push(i);
  cand.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const active = new Uint8Array(cand.length).fill(1);
  const kept: number[] = [];
  for (let i = 0; i < cand.length && kept.length < options.maxDetections; i++) {
    if (!active[i]) continue;
    const bi = cand[i]!;
    kept.push(bi);
    for (let j = i + 1; j < cand.length; j++)
      if (active[j] && iou(boxes, bi, cand[j]!) > options.iouThreshold) active[j] = 0;
  }
  return kept;
}

/** Column `c` of an [n][stride] score matrix, offset by `offset` (the background column). */
function column(scores: ArrayLike<number>, n: number, stride: number, c: number): Float32Array {
  const col = new Float32Array(n);
  for (let i = 0; i < n; i++) col[i] = scores[i * stride + c]!;
  return col;
}

export interface ScoreLayout {
  /** Real classes (background excluded). */
  numClasses: number;
  /** Score columns per box: numClasses, or numClasses + 1 with the background first. */
  stride: number;
}

function labelOffset(l: ScoreLayout, n: number, scores: ArrayLike<number>): number {
  const off = l.stride - l.numClasses;
  if (off !== 0 && off !== 1)
    throw new Error(`NMS: ${l.stride} score columns for ${l.numClasses} classes (at most one background column)`);
  if (scores.length !== n * l.stride)
    throw new Error(`NMS: ${scores.length} scores for ${n} boxes × ${l.stride} columns`);
  return off;
}

/** Per-class NMS, then the best maxDetections overall (ties: class order, then selection order). */
export function nmsPerClass(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  layout: ScoreLayout,
  options: NmsOptions & { detectionsPerClass: number },
): Detection[] {
  checkOptions(options);
  if (!(Number.isInteger(options.detectionsPerClass) && options.detectionsPerClass > 0))
    throw new Error(`NMS: detections per class ${options.detectionsPerClass} must be a positive integer`);
  const n = boxes.length / 4;
  const off = labelOffset(layout, n, scores);
  const all: Detection[] = [];
  for (let c = 0; c < layout.numClasses; c++) {
    const col = column(scores, n, layout.stride, c + off);
    for (const b of nmsSingleClass(boxes, col, { ...options, maxDetections: options.detectionsPerClass }))
      all.push({ box: b, classId: c, score: col[b]! });
  }
  // Array.prototype.sort is stable: equal scores keep class order, then selection order.
  all.sort((a, b) => b.score - a.score);
  return all.slice(0, options.maxDetections);
}

/** Class-agnostic NMS on each box's best class score; each kept box lists its best maxClassesPerDetection classes. */
export function nmsClassAgnostic(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  layout: ScoreLayout,
  options: NmsOptions & { maxClassesPerDetection: number },
): Detection[] {
  checkOptions(options);
  if (!(Number.isInteger(options.maxClassesPerDetection) && options.maxClassesPerDetection > 0))
    throw new Error(`NMS: max classes per detection ${options.maxClassesPerDetection} must be a positive integer`);
  const n = boxes.length / 4;
  const off = labelOffset(layout, n, scores);
  const k = Math.min(options.maxClassesPerDetection, layout.numClasses);
  const best = new Float32Array(n);
  const ranked: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = i * layout.stride + off;
    let top: number[];
    if (k === 1) {
      let m = 0; // first maximum
      for (let c = 1; c < layout.numClasses; c++) if (scores[row + c]! > scores[row + m]!) m = c;
      top = [m];
    } else {
      top = Array.from({ length: layout.numClasses }, (_, c) => c);
      top.sort((a, b) => scores[row + b]! - scores[row + a]! || a - b);
      top = top.slice(0, k);
    }
    ranked.push(top);
    best[i] = scores[row + top[0]!]!;
  }
  const out: Detection[] = [];
  for (const b of nmsSingleClass(boxes, best, options)) {
    for (const c of ranked[b]!) out.push({ box: b, classId: c, score: scores[b * layout.stride + off + c]! });
  }
  return out;
}
