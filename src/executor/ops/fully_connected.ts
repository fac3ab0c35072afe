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
  splitBinder,
  type BindContext,
  type OpLowering,
} from './context.js';
import { gemmPieces } from './conv2d.js';

export const fullyConnected: OpLowering<FullyConnectedOp> = {
  float({ model, graph: g, weights: W, threads }, op) {
    const [n, kk] = g.tensors[op.weights]!.shape as [number, number];
    const pw = W.add(4 * packFullyConnectedLength(n, kk), () =>
      packFullyConnected(f32Const(model, op.weights, op), n, kk),
    );
    const b = W.add(4 * n, () => (op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(n)));
    const [lo, hi] = clampOf(op.act);
    // Output channels [n0, n1) (panel-aligned): a thread's share of the layer.
    const part = (c: BindContext, _rows: [number, number], [n0, n1]: [number, number]) => {
      const io = ioArgs(c, op);
      return c.b.f32_fully_connected({
        x: io.x,
        y: io.y + 4 * n0,
        w: c.weight(pw) + 4 * packFullyConnectedLength(n0, kk),
        b: c.weight(b) + 4 * n0,
        K: kk,
        N: n1 - n0,
        lo,
        hi,
      });
    };
    return splitBinder((c) => part(c, [0, 1], [0, n]), gemmPieces(1, n, threads ?? 1, part));
  },

  integerUnsupported: (g, op) => weightsReason(g.tensors[op.weights]!) ?? ioQuantizedReason(g, op),

  integer({ model, graph: g, weights: W, threads }, op) {
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
    const part = (c: BindContext, _rows: [number, number], [n0, n1]: [number, number]) => {
      const io = ioArgs(c, op);
      return c.b.q8_gemm({
        x: io.x,
        y: io.y + n0,
        M: 1,
        K: kk,
        xs: kk,
        w: c.weight(pw) + packQ8GemmLength(n0, kk),
        N: n1 - n0,
        b: c.weight(pb) + 4 * n0,
        s: c.weight(ps) + 4 * n0,
        ys: n,
        rq: c.weight(prq),
        res: 0,
        rs: 0,
        sg,
      });
    };
    return splitBinder((c) => part(c, [0, 1], [0, n]), gemmPieces(1, n, threads ?? 1, part));
  },
};
