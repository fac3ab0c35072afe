/**
 * Which arithmetic a prepared run uses, read off the model it executes (so it
 * stays right whichever path prepareRun picks): integer kernels when the
 * executed graph keeps uint8/int8 activations, else float32 — "dequantized"
 * when the file itself was quantized (close to, not bit-equal with, an
 * integer engine such as TFLite).
 */
import type { LoadedModel } from '../model.js';
import { isIntegerGraph, isQuantizedActivation } from '../executor/lower.js';

export type NumericPath = 'integer' | 'float32';

export interface PathInfo {
  path: NumericPath;
  /** The file is quantized and runs on the float path. */
  dequantized: boolean;
  /** One line for humans. */
  description: string;
}

export function hasQuantizedActivations(model: LoadedModel): boolean {
  return isIntegerGraph(model.graph);
}

export function describeNumericPath(file: LoadedModel, executed: LoadedModel): PathInfo {
  if (hasQuantizedActivations(executed)) {
    const dt = executed.graph.tensors.find((t) => isQuantizedActivation(executed.graph, t))!.dtype;
    return {
      path: 'integer',
      dequantized: false,
      description: `integer (${dt === 'u8' ? 'uint8' : 'int8'} activations, as the file)`,
    };
  }
  if (hasQuantizedActivations(file)) {
    return {
      path: 'float32',
      dequantized: true,
      description: 'float32 (the quantized file dequantized; close to, not bit-equal with, TFLite)',
    };
  }
  return { path: 'float32', dequantized: false, description: 'float32' };
}
