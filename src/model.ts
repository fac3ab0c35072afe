/**
 * A loaded model: the graph plus its constant data, how image pixels map to
 * the input tensor, and the labels of its outputs.
 */
import type { Graph, Quantization } from '../planner/ir.js';
import type { DetectionPostProcessOptions } from './detect/postprocess.js';

export type ConstData = Float32Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;

/**
 * How an RGB uint8 pixel p becomes the value fed to the model.
 * - 'quantized': the model takes the uint8 bytes as they are (TFLite uint8 input);
 *   its real value is scale * (p - zeroPoint), which the float path computes.
 * - 'affine': the model takes float32 `p * scale + offset` (nsfwjs: scale 1/255, offset 0).
 */
export type InputNormalization =
  { kind: 'quantized'; scale: number; zeroPoint: number } | { kind: 'affine'; scale: number; offset: number };

export interface LoadedModel {
  /** File path or registry name it came from. */
  source: string;
  format: 'tflite' | 'tfjs';
  graph: Graph;
  /** Data of every constant tensor, by tensor id, in the dtype the tensor declares. */
  constants: Map<number, ConstData>;
  input: { height: number; width: number; channels: number; normalization: InputNormalization };
  /** Class names when the model carries them (nsfwjs), else undefined. */
  labels?: string[];
  /** Detection post-processing the file asks for after the graph (TFLite_Detection_PostProcess); see src/detect/. */
  detectionPostProcess?: DetectionPostProcessSpec;
}

/**
 * A TFLite_Detection_PostProcess custom op, lifted out of the graph by the
 * importer: the graph ends at the op's box-encoding and class-score inputs
 * (graph outputs `boxesOutput`, `scoresOutput`) and src/detect runs the op.
 */
export interface DetectionPostProcessSpec {
  options: DetectionPostProcessOptions;
  /** Anchors [N, 4] as (ycenter, xcenter, h, w), dequantized. */
  anchors: Float32Array;
  boxesOutput: number;
  scoresOutput: number;
  /** A LOGISTIC between the scores and the op was folded into the post-process: apply the sigmoid. */
  scoreSigmoid: boolean;
  /** uint8/int8 grid the op's inputs had in the file (the float path rounds to it, as TFLite's values are). */
  boxesGrid?: { quant: Quantization; dtype: 'u8' | 'i8' };
  scoresGrid?: { quant: Quantization; dtype: 'u8' | 'i8' };
}

/** A model that is not on this machine (package not installed, file not downloaded); the message says how to get it. */
export class ModelNotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotAvailableError';
  }
}
