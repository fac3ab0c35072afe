/**
 * Arithmetic cost of ops: multiply-adds (the paper's "MAdds") and parameter counts.
 */
import { tensorElements, type Graph, type Op } from './ir.js';

/** Multiply-adds of one op (convolutions and fully-connected; 0 for the rest). */
export function opMultiplyAdds(graph: Graph, op: Op): number {
  const out = graph.tensors[op.outputs[0]!]!;
  switch (op.kind) {
    case 'conv2d': {
      const w = graph.tensors[op.weights]!.shape; // [O, kh, kw, I]
      return tensorElements(out) * w[1]! * w[2]! * w[3]!;
    }
    case 'dwconv2d':
      return tensorElements(out) * op.kernel[0] * op.kernel[1];
    case 'fully_connected': {
      const w = graph.tensors[op.weights]!.shape; // [N, K]
      return w[0]! * w[1]!;
    }
    default:
      return 0;
  }
}

export function graphMultiplyAdds(graph: Graph): number {
  return graph.ops.reduce((s, op) => s + opMultiplyAdds(graph, op), 0);
}

/** Parameters: elements of every constant tensor (weights and biases; BatchNorm folded into biases). */
export function graphParameters(graph: Graph): number {
  return graph.tensors.filter((t) => t.constant).reduce((s, t) => s + tensorElements(t), 0);
}
