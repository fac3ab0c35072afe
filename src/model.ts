/**
 * A loaded model: the graph plus its constant data, how image pixels map to
 * the input tensor, and the labels of its outputs.
 */
import type { Graph } from '../planner/ir.js';

export type ConstData = Float32Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;

/**
 * How an RGB uint8 pixel p becomes the value fed to the model.
 * - 'quantized': the model takes the uint8 bytes as they are (TFLite uint8 input);
 *   its real value is scale * (p - zeroPoint), which the float path computes.
 * - 'affine': the model takes float32 `p * scale + offset` (nsfwjs: scale 1/255, offset 0).
 */
export type InputNormalization =
  | { kind: 'quantized'; scale: number; zeroPoint: number }
  | { kind: 'affine'; scale: number; offset: number };

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
}

/** A model that is not on this machine (package not installed, file not downloaded); the message says how to get it. */
export class ModelNotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotAvailableError';
  }
}
