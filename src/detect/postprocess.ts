/**
 * TFLite_Detection_PostProcess (TFLite custom op, kernels/detection_postprocess.cc)
 * as lowwater runs it after the graph: decode the box encodings against the
 * anchors, then non-maximum suppression, per class or class-agnostic.
 *
 * Inputs, as the op takes them: box encodings [1, N, ≥4] (ty, tx, th, tw, ...),
 * class scores [1, N, C] (C = num_classes, or num_classes + 1 with the
 * background first), anchors [N, 4] (ycenter, xcenter, h, w). Scores are used
 * as given (exported SSD graphs apply their sigmoid before the op).
 */
import { decodeCenterSizeBoxes, type BoxScales } from './box_coder.js';
import type { FlexScalar } from './flexbuffers.js';
import { nmsClassAgnostic, nmsPerClass, type Detection } from './nms.js';

export interface DetectionPostProcessOptions {
  maxDetections: number;
  /** Class-agnostic NMS: classes reported per kept box. */
  maxClassesPerDetection: number;
  /** Per-class NMS: boxes kept per class (op default 100). */
  detectionsPerClass: number;
  /** true: per-class NMS; false (op default): class-agnostic. */
  useRegularNms: boolean;
  scoreThreshold: number;
  iouThreshold: number;
  numClasses: number;
  scales: BoxScales;
}

/** The op's flexbuffer keys (custom_options) and the defaults TFLite gives the optional ones. */
export function parseDetectionPostProcessOptions(
  m: Record<string, FlexScalar>,
  where = 'TFLite_Detection_PostProcess',
): DetectionPostProcessOptions {
  const num = (key: string, fallback?: number): number => {
    const v = m[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${where}: custom option '${key}' is missing`);
    }
    const n = typeof v === 'boolean' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw new Error(`${where}: custom option '${key}' is ${JSON.stringify(v)}, not a number`);
    return n;
  };
  const int = (key: string, fallback?: number): number => {
    const v = num(key, fallback);
    if (!Number.isInteger(v)) throw new Error(`${where}: custom option '${key}' is ${v}, not an integer`);
    return v;
  };
  const o: DetectionPostProcessOptions = {
    maxDetections: int('max_detections'),
    maxClassesPerDetection: int('max_classes_per_detection'),
    detectionsPerClass: int('detections_per_class', 100),
    useRegularNms: num('use_regular_nms', 0) !== 0,
    scoreThreshold: num('nms_score_threshold'),
    iouThreshold: num('nms_iou_threshold'),
    numClasses: int('num_classes'),
    scales: { y: num('y_scale'), x: num('x_scale'), h: num('h_scale'), w: num('w_scale') },
  };
  if (o.maxDetections < 0) throw new Error(`${where}: max_detections ${o.maxDetections} is negative`);
  if (o.numClasses < 1) throw new Error(`${where}: num_classes ${o.numClasses} must be ≥ 1`);
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1))
    throw new Error(`${where}: nms_iou_threshold ${o.iouThreshold} must be in (0, 1]`);
  if (!o.useRegularNms && o.maxClassesPerDetection < 1)
    throw new Error(`${where}: max_classes_per_detection ${o.maxClassesPerDetection} must be ≥ 1`);
  for (const k of ['y', 'x', 'h', 'w'] as const) if (o.scales[k] === 0) throw new Error(`${where}: ${k}_scale is 0`);
  return o;
}

export interface DecodedDetection extends Detection {
  /** Normalized corners of the box: ymin, xmin, ymax, xmax. */
  ymin: number;
  xmin: number;
  ymax: number;
  xmax: number;
}

/**
 * Runs the post-process. `boxCodeSize` is the last dimension of the box
 * encodings (4, or more for keypoint models); `scoreColumns` the last
 * dimension of the class scores.
 */
export function detectionPostProcess(
  boxEncodings: ArrayLike<number>,
  boxCodeSize: number,
  classScores: ArrayLike<number>,
  scoreColumns: number,
  anchors: ArrayLike<number>,
  o: DetectionPostProcessOptions,
): DecodedDetection[] {
  const n = anchors.length / 4;
  if (boxEncodings.length !== n * boxCodeSize)
    throw new Error(`detection post-process: ${boxEncodings.length / boxCodeSize} box encodings but ${n} anchors`);
  if (classScores.length !== n * scoreColumns)
    throw new Error(`detection post-process: ${classScores.length / scoreColumns} score rows but ${n} anchors`);
  const boxes = decodeCenterSizeBoxes(boxEncodings, anchors, o.scales, boxCodeSize);
  const layout = { numClasses: o.numClasses, stride: scoreColumns };
  const nms = { iouThreshold: o.iouThreshold, scoreThreshold: o.scoreThreshold, maxDetections: o.maxDetections };
  const found = o.useRegularNms
    ? nmsPerClass(boxes, classScores, layout, { ...nms, detectionsPerClass: o.detectionsPerClass })
    : nmsClassAgnostic(boxes, classScores, layout, { ...nms, maxClassesPerDetection: o.maxClassesPerDetection });
  return found.map((d) => ({
    ...d,
    ymin: boxes[4 * d.box]!,
    xmin: boxes[4 * d.box + 1]!,
    ymax: boxes[4 * d.box + 2]!,
    xmax: boxes[4 * d.box + 3]!,
  }));
}
