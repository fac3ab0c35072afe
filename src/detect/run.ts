/**
 * From a run of an SSD graph whose file ended in TFLite_Detection_PostProcess
 * (LoadedModel.detectionPostProcess) to its detections.
 */
import type { DetectionPostProcessSpec, LoadedModel } from '../model.js';
import { quantizeLike } from '../run_setup.js';
import { detectionPostProcess, type DecodedDetection } from './postprocess.js';

const sigmoid = (v: Float32Array): Float32Array => v.map((x) => 1 / (1 + Math.exp(-x)));

/**
 * The op's inputs as TFLite would see them: box encodings and class scores
 * from the graph outputs, the folded LOGISTIC applied, and values rounded to
 * the uint8/int8 grids those tensors have in a quantized file (a no-op for
 * values already on it).
 */
export function postProcessInputs(
  spec: DetectionPostProcessSpec,
  outputs: readonly ArrayLike<number>[],
): { boxes: Float32Array; scores: Float32Array } {
  const boxesOut = outputs[spec.boxesOutput];
  const scoresOut = outputs[spec.scoresOutput];
  if (!boxesOut || !scoresOut)
    throw new Error(
      `detection post-process: the run gave ${outputs.length} outputs; box encodings are output ${spec.boxesOutput}, scores output ${spec.scoresOutput}`,
    );
  let boxes: Float32Array = Float32Array.from(boxesOut);
  let scores: Float32Array = Float32Array.from(scoresOut);
  if (spec.boxesGrid) boxes = quantizeLike(boxes, spec.boxesGrid.quant, spec.boxesGrid.dtype);
  if (spec.scoreSigmoid) scores = sigmoid(scores);
  if (spec.scoresGrid) scores = quantizeLike(scores, spec.scoresGrid.quant, spec.scoresGrid.dtype);
  return { boxes, scores };
}

/** Detections of one run; `model` is the model that ran (its graph gives the output shapes). */
export function detectionsOf(model: LoadedModel, outputs: readonly ArrayLike<number>[]): DecodedDetection[] {
  const spec = model.detectionPostProcess;
  if (!spec)
    throw new Error(
      `${model.source}: the model has no TFLite_Detection_PostProcess op; detection needs an SSD exported with it (TF object detection export_tflite_ssd_graph / export_tflite_graph_tf2)`,
    );
  const g = model.graph;
  const shapeOf = (i: number) => g.tensors[g.outputs[i]!]!.shape;
  const { boxes, scores } = postProcessInputs(spec, outputs);
  return detectionPostProcess(
    boxes,
    shapeOf(spec.boxesOutput).at(-1)!,
    scores,
    shapeOf(spec.scoresOutput).at(-1)!,
    spec.anchors,
    spec.options,
  );
}

/** Normalized (ymin, xmin, ymax, xmax) to pixel edges of a width×height image, clamped to it. */
export function toPixels(
  box: { ymin: number; xmin: number; ymax: number; xmax: number },
  width: number,
  height: number,
): { left: number; top: number; right: number; bottom: number } {
  const cx = (v: number) => Math.min(width, Math.max(0, v * width));
  const cy = (v: number) => Math.min(height, Math.max(0, v * height));
  return {
    left: cx(Math.min(box.xmin, box.xmax)),
    top: cy(Math.min(box.ymin, box.ymax)),
    right: cx(Math.max(box.xmin, box.xmax)),
    bottom: cy(Math.max(box.ymin, box.ymax)),
  };
}
