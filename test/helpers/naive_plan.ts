/**
 * Temporary test helper until the planner lands: every tensor gets its own
 * buffer (the "naive" policy), ops run in file order.
 */
import { tensorBytes, type Graph } from '../../planner/ir.js';
import type { Plan, PlannedBuffer } from '../../planner/plan.js';

export function naivePlan(graph: Graph): Plan {
  const buffers: PlannedBuffer[] = [];
  const tensorOffsets = new Map<number, number>();
  let offset = 0;
  const add = (id: number) => {
    const t = graph.tensors[id]!;
    const bytes = tensorBytes(t);
    buffers.push({ name: t.name, tensor: id, bytes, firstStep: 0, lastStep: graph.ops.length - 1, offset });
    tensorOffsets.set(id, offset);
    offset += Math.ceil(bytes / 16) * 16;
  };
  graph.inputs.forEach(add);
  for (const op of graph.ops) op.outputs.forEach(add);
  return {
    graphName: graph.name,
    steps: graph.ops.map((op) => ({ kind: 'op' as const, op: op.id })),
    buffers,
    tensorOffsets,
    arenaBytes: offset,
    peakBytes: offset,
    orderAlgorithm: 'given',
    placementAlgorithm: 'naive',
  };
}
