/**
 * The packed operands of an integer op that runs as one q8 GEMM (a 1x1 convolution or a
 * fully connected layer: N outputs of K inputs each): the weights in GEMM panels, the bias
 * folded with the input zero point, the per-channel multipliers and the output parameters
 * (requantization and activation clamp of the op's output).
 */
import type { Conv2DOp, FullyConnectedOp } from '../../../planner/ir.js';
import { foldQ8Bias, packQ8Gemm, packQ8GemmLength, padQ8Scales, q8OutputParams, Q8_NR } from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import { biasConst, intConst, ioQuant, kernelZeroPoint, type BindContext, type LowerContext } from './context.js';

/** The q8_gemm arguments that come from the weights: their addresses once bound, and the signedness. */
export interface Q8GemmOperands {
  w: number;
  N: number;
  K: number;
  b: number;
  s: number;
  rq: number;
  sg: number;
}

/** Packs the op's operands into the weights; returns what binds them to their addresses. */
export function packQ8GemmOperands(
  { model, graph: g, weights: W }: LowerContext,
  op: Conv2DOp | FullyConnectedOp,
  N: number,
  K: number,
): (c: BindContext) => Q8GemmOperands {
  const { x: xq, y: yq, sg } = ioQuant(g, op);
  const { scale, zw } = weightQuant(g, op, N);
  const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
  const w = () => intConst(model, op.weights, op);
  const pw = W.add(packQ8GemmLength(N, K), (into) => packQ8Gemm(w(), N, K, zw, 0, N, 0, K, into));
  const pb = W.add(4 * Math.ceil(N / Q8_NR) * Q8_NR, () =>
    foldQ8Bias(biasConst(model, op.bias, op), w(), N, K, zw, xq.z),
  );
  const ps = W.put(padQ8Scales(scale, N));
  const prq = W.put(q8OutputParams(yq.z, lo, hi, undefined, kernelZeroPoint(g.tensors[op.weights]!)));
  return (c) => ({ w: c.weight(pw), N, K, b: c.weight(pb), s: c.weight(ps), rq: c.weight(prq), sg });
}

/** The operands of output channels [n0, n1) only (n0 panel-aligned): one thread's share of the GEMM. */
export function q8GemmChannels(op: Q8GemmOperands, n0: number, n1: number): Q8GemmOperands {
  return { ...op, w: op.w + packQ8GemmLength(n0, op.K), b: op.b + 4 * n0, s: op.s + 4 * n0, N: n1 - n0 };
}
