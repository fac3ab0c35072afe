/**
 * Graph pass: RESIZE_BILINEAR → ARG_MAX over channels becomes one `resize_argmax` op.
 *
 * A segmentation network (Mobile DeepLabv3, paper Section 6.3) ends by resizing its class
 * scores [1, h, w, C] to the input size [1, H, W, C] and taking each pixel's arg-max. The
 * resized scores are by far its largest tensor (513·513·21 = 5.5 MB in uint8, 22 MB in
 * float32), yet only the H·W class ids are wanted. The fused op computes every output
 * pixel's class from its 4 source neighbours, so the planner's memory model sees the
 * small class map instead of the resized scores.
 *
 * The pattern: an `argmax` over the last axis whose class ids no op reads, whose input is
 * written by a `resize_bilinear` that nothing else reads, that is not a graph output, and
 * whose input and output share dtype and quantization (then the fused op's arithmetic is the
 * resize's).
 * The pass is pure: it returns a new graph (the input is not modified) in which tensor ids
 * are unchanged, so constants keyed by tensor id stay valid. The resized-scores tensor
 * stays in `tensors` with no producer and no consumers (never materialized); op ids are
 * renumbered. The class ids are u8 when C ≤ 256, else i32 (shapes.ts classIdDtype),
 * whatever width the arg-max declared (TFLite files say int64).
 */
import type { Graph, Op, ResizeArgMaxOp, Tensor } from './ir.js';
import { classIdDtype } from './shapes.js';

export interface FusedResizeArgmax {
  /** The fused op, by its id in the new graph. */
  op: number;
  /** Names of the two ops it replaces. */
  resize: string;
  argmax: string;
  /** The tensor no longer materialized (the resized scores). */
  droppedTensor: number;
}

const sameQuant = (a: Tensor, b: Tensor): boolean => {
  if (a.dtype !== b.dtype) return false;
  if (!a.quant || !b.quant) return !a.quant && !b.quant;
  return (
    a.quant.scale.length === b.quant.scale.length &&
    a.quant.scale.every((s, i) => s === b.quant!.scale[i] && a.quant!.zeroPoint[i] === b.quant!.zeroPoint[i])
  );
};

/** The (resize, argmax) op pairs of `graph` that fuseResizeArgmax rewrites. */
export function findResizeArgmax(graph: Graph): [number, number][] {
  const outputs = new Set(graph.outputs);
  const pairs: [number, number][] = [];
  for (const op of graph.ops) {
    // The class ids change width (to u8 or i32): only ids that leave the graph, read by no op.
    if (op.kind !== 'argmax' || op.inputs.length !== 1 || graph.tensors[op.outputs[0]!]!.consumers.length > 0) continue;
    const scores = graph.tensors[op.inputs[0]!]!;
    const rank = scores.shape.length;
    if (rank !== 4 || (op.axis !== rank - 1 && op.axis !== -1)) continue;
    if (scores.consumers.length !== 1 || outputs.has(scores.id) || scores.producer < 0) continue;
    const resize = graph.ops[scores.producer]!;
    if (resize.kind !== 'resize_bilinear') continue;
    if (!sameQuant(graph.tensors[resize.inputs[0]!]!, scores)) continue;
    pairs.push([resize.id, op.id]);
  }
  return pairs;
}

/** The graph with every resize → arg-max pair fused (the same graph object when there is none). */
export function fuseResizeArgmax(graph: Graph): { graph: Graph; fused: FusedResizeArgmax[] } {
  const pairs = findResizeArgmax(graph);
  if (pairs.length === 0) return { graph, fused: [] };
  const dropResize = new Set(pairs.map(([r]) => r));
  const fusedAt = new Map(pairs.map(([r, a]) => [a, r]));
  // New op list: each resize removed, each arg-max replaced by the fused op (at the arg-max's place:
  // every input is written before the resize was, the class ids are read where the arg-max's were).
  const newId = new Int32Array(graph.ops.length).fill(-1);
  const kept: Op[] = [];
  for (const op of graph.ops) {
    if (dropResize.has(op.id)) continue;
    newId[op.id] = kept.length;
    const r = fusedAt.get(op.id);
    if (r === undefined) {
      kept.push(op);
      continue;
    }
    const resize = graph.ops[r]!;
    if (resize.kind !== 'resize_bilinear') throw new Error(`fuseResizeArgmax: op ${r} is not a resize`);
    const fused: ResizeArgMaxOp = {
      id: -1,
      kind: 'resize_argmax',
      name: `${resize.name}+${op.name}`,
      inputs: resize.inputs.slice(),
      outputs: op.outputs.slice(),
      size: [resize.size[0], resize.size[1]],
      alignCorners: resize.alignCorners,
      halfPixelCenters: resize.halfPixelCenters,
    };
    kept.push(fused);
  }
  const ops: Op[] = kept.map((op, i) => ({ ...op, id: i }) as Op);
  // The fused op reads what the resize read (it takes the resize's place among the logits' consumers).
  const argmaxOfResize = new Map(pairs);
  const dropped = new Set(pairs.map(([r]) => graph.ops[r]!.outputs[0]!));
  const tensors: Tensor[] = graph.tensors.map((t) => {
    if (dropped.has(t.id)) return { ...t, producer: -1, consumers: [] };
    const producer = t.producer < 0 ? -1 : newId[t.producer]!;
    const consumers = [...new Set(t.consumers.map((c) => newId[argmaxOfResize.get(c) ?? c]!))].sort((a, b) => a - b);
    const p = producer >= 0 ? ops[producer]! : undefined;
    // Class ids: one byte per pixel when they fit.
    const dtype = p?.kind === 'resize_argmax' ? classIdDtype(graph.tensors[p.inputs[0]!]!.shape[3]!) : t.dtype;
    return { ...t, dtype, producer, consumers };
  });
  const fused = pairs.map(([r, a]) => ({
    op: newId[a]!,
    resize: graph.ops[r]!.name,
    argmax: graph.ops[a]!.name,
    droppedTensor: graph.ops[r]!.outputs[0]!,
  }));
  return { graph: { ...graph, tensors, ops, inputs: graph.inputs.slice(), outputs: graph.outputs.slice() }, fused };
}
