/**
 * Aliasing policy: which ops may share memory between an input and their
 * output. It lives here, apart from the order search and the placers, which
 * only see its result (storages and in-place candidates).
 *
 * - reshape: the output is the input's bytes under a new shape. It never
 *   copies; input and output are one storage.
 * - add: elementwise, so it may write its output over an input of the same
 *   byte size when that input's storage has no reader after the add (it "dies
 *   there"). Whether it dies depends on the order, so the in-place decision is
 *   taken per order (memory.ts evaluateOrder, and each transition of the
 *   exact search) from the candidates listed here.
 */
import { tensorBytes, type Graph, type Op } from './ir.js';

/** The op's output is its first input's storage, always (no copy). */
export function aliasesInput(op: Op): boolean {
  return op.kind === 'reshape';
}

/** The op may write its output over one of its inputs when that input dies at this op. */
export function mayWriteInPlace(op: Op): boolean {
  return op.kind === 'add';
}

/** Root tensor of `id`'s storage: follow reshape outputs back to the tensor whose bytes they share. */
export function storageRoot(graph: Graph, id: number): number {
  let t = id;
  for (;;) {
    const p = graph.tensors[t]!.producer;
    if (p < 0) return t;
    const op = graph.ops[p]!;
    if (!aliasesInput(op)) return t;
    t = op.inputs[0]!;
  }
}

/** Inputs whose storage an in-place op may overwrite: same byte size as the output, in input order. */
export function inPlaceInputs(graph: Graph, op: Op): number[] {
  if (!mayWriteInPlace(op) || op.outputs.length !== 1) return [];
  const out = tensorBytes(graph.tensors[op.outputs[0]!]!);
  return [...new Set(op.inputs)].filter((i) => tensorBytes(graph.tensors[i]!) === out);
}
