/** FULLY_CONNECTED: the input flattened, times [N][K] weights, as a one-row GEMM; float and integer. */
import { tensorElements, type FullyConnectedOp } from '../../../planner/ir.js';
import { packFullyConnected, packFullyConnectedLength } from '../../kernels/pack.js';
import { UnsupportedOpError } from '../weights_image.js';
import { packQ8GemmOperands, q8GemmChannels } from './q8_gemm_operands.js';
import {
  clampOf,
  f32Const,
  ioArgs,
  ioQuantizedReason,
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

  integer(cx, op) {
    const [n, kk] = cx.graph.tensors[op.weights]!.shape as [number, number];
    const inputs = tensorElements(cx.graph.tensors[op.inputs[0]!]!);
    if (inputs !== kk) throw new UnsupportedOpError(op, `input has ${inputs} values, weights expect ${kk}`);
    const operands = packQ8GemmOperands(cx, op, n, kk);
    // Output channels [n0, n1) (panel-aligned): a thread's share of the layer.
    const part = (c: BindContext, _rows: [number, number], [n0, n1]: [number, number]) => {
      const io = ioArgs(c, op);
      return c.b.q8_gemm({
        ...q8GemmChannels(operands(c), n0, n1),
        x: io.x,
        y: io.y + n0,
        M: 1,
        xs: kk,
        ys: n,
        res: 0,
        rs: 0,
      });
    };
    return splitBinder((c) => part(c, [0, 1], [0, n]), gemmPieces(1, n, cx.threads ?? 1, part));
  },
};
