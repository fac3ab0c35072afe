/**
 * Which numeric path lowwater ran for a quantized model. `prepareRun` returns
 * the model as executed: dequantized (f32 graph output) on the float path,
 * the file's own u8/i8 tensors on the integer path, whose executor hands back
 * the raw integer output. Both signs must agree, so a half-landed integer path
 * (say, an integer graph with float output) is reported, not mislabelled.
 */
import type { RunSetup } from '../src/run_setup.js';

export type LowwaterPath = 'integer' | 'float32';

export function lowwaterPath(setup: Pick<RunSetup, 'model'>, output: ArrayBufferView): LowwaterPath {
  const g = setup.model.graph;
  const outT = g.tensors[g.outputs[0]!];
  if (!outT) throw new Error('lowwater: the executed model has no output tensor');
  const intOut = output instanceof Uint8Array || output instanceof Int8Array;
  if ((outT.dtype === 'u8' || outT.dtype === 'i8') && intOut) return 'integer';
  if (outT.dtype === 'f32' && output instanceof Float32Array) return 'float32';
  throw new Error(
    `lowwater: executed model output '${outT.name}' is ${outT.dtype} but the run returned a ${output.constructor.name}; cannot tell which path ran`,
  );
}
