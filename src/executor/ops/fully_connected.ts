/** FULLY_CONNECTED: the input flattened, times [N][K] weights, as a one-row GEMM; float and integer. */
import { tensorElements, type FullyConnectedOp } from '../../../planner/ir.js';
import { packFullyConnected, packFullyConnectedLength } from '../../kernels/pack.js';
import { foldQ8Bias, packQ8Gemm, packQ8GemmLength, padQ8Scales, q8OutputParams, Q8_NR } from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import {
  biasConst,
  clampOf,
  f32Const,
  inputAt,
  intConst,
  ioQuant,
  ioQuantizedReason,
  kernelZeroPoint,
  outputAt,
  weightsReason,
  type OpLowering,
} from './context.js';

export const fullyConnected: OpLowering<FullyConnectedOp> = {
  float({ model, graph: g, weights: W }, op) {
    const [n, kk] = g.tensors[op.weights]!.shape as [number, number];
    const pw = W.add(4 * packFullyConnectedLength(n, kk), () =>
      packFullyConnected(f32Const(model, op.weights, op), n, kk),
    );
    const b = W.add(4 * n, () => (op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(n)));
    const [lo, hi] = clampOf(op.act);
    return (c) => {
      const [a, o, wa, ba, k] = [inputAt(op)(c), outputAt(op)(c), c.weight(pw), c.weight(b), c.k];
      return () => k.f32_fully_connected(a, kk, wa, ba, o, n, lo, hi);
    };
  },

  integerUnsupported: (g, op) => weightsReason(g.tensors[op.weights]!) ?? ioQuantizedReason(g, op),

  integer({ model, graph: g, weights: W }, op) {
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const [n, kk] = g.tensors[op.weights]!.shape as [number, number];
    const inputs = tensorElements(g.tensors[op.inputs[0]!]!);
    if (inputs !== kk) throw new UnsupportedOpError(op, `input has ${inputs} values, weights expect ${kk}`);
    const { scale, zw } = weightQuant(g, op, n);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const w = () => intConst(model, op.weights, op);
    const pw = W.add(packQ8GemmLength(n, kk), () => packQ8Gemm(w(), n, kk, zw));
    const pb = W.add(4 * Math.ceil(n / Q8_NR) * Q8_NR, () =>
      foldQ8Bias(biasConst(model, op.bias, op), w(), n, kk, zw, xq.z),
    );
    const ps = W.put(padQ8Scales(scale, n));
    const prq = W.put(q8OutputParams(yq.z, lo, hi, undefined, kernelZeroPoint(g.tensors[op.weights]!)));
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      const [wa, ba, sa, rq] = [c.weight(pw), c.weight(pb), c.weight(ps), c.weight(prq)];
      return () => k.q8_gemm(a, 1, kk, kk, wa, n, ba, sa, o, n, rq, 0, 0, sg);
    };
  },
};
