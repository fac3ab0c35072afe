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
  ioArgs,
  intConst,
  ioQuant,
  ioQuantizedReason,
  kernelZeroPoint,
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
      return c.b.f32_fully_connected({ ...ioArgs(c, op), w: c.weight(pw), b: c.weight(b), K: kk, N: n, lo, hi });
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
    return (c) =>
      c.b.q8_gemm({
        ...ioArgs(c, op),
        M: 1,
        K: kk,
        xs: kk,
        w: c.weight(pw),
        N: n,
        b: c.weight(pb),
        s: c.weight(ps),
        ys: n,
        rq: c.weight(prq),
        res: 0,
        rs: 0,
        sg,
      });
  },
};
