/** FULLY_CONNECTED: the input flattened, times [N][K] weights, as a one-row GEMM; float and integer. */
import { tensorElements, type FullyConnectedOp } from '../../../planner/ir.js';
import { packFullyConnected, packFullyConnectedLength } from '../../kernels/pack.js';
import { UnsupportedOpError } from '../weights_image.js';
import { packQ8GemmOperands } from './q8_gemm_operands.js';
import { clampOf, f32Const, ioArgs, ioQuantizedReason, weightsReason, type OpLowering } from './context.js';

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

  integer(cx, op) {
    const [n, kk] = cx.graph.tensors[op.weights]!.shape as [number, number];
    const inputs = tensorElements(cx.graph.tensors[op.inputs[0]!]!);
    if (inputs !== kk) throw new UnsupportedOpError(op, `input has ${inputs} values, weights expect ${kk}`);
    const operands = packQ8GemmOperands(cx, op, n, kk);
    return (c) => c.b.q8_gemm({ ...ioArgs(c, op), ...operands(c), M: 1, xs: kk, ys: n, res: 0, rs: 0 });
  },
};
