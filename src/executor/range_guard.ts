/**
 * Debug-mode guard: every kernel call must read and write only inside the
 * buffers the plan gave the step it belongs to (plus the weights region for
 * reads). A violation throws before the kernel runs, naming the kernel, the
 * operand, the step and the byte range.
 */
import type { Graph } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';
import type { ByteRange, KernelName, KernelRanges } from '../kernels/index.js';

type Region = [start: number, end: number];

export class RangeViolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RangeViolationError';
  }
}

export interface StepRegions {
  reads: Region[];
  writes: Region[];
}

/** Absolute regions each step may read and write. */
export function stepRegions(graph: Graph, plan: Plan, arenaBase: number, weights: Region): StepRegions[] {
  const bufferOf = new Map<number, Region>();
  for (const b of plan.buffers)
    if (b.tensor >= 0 && !bufferOf.has(b.tensor))
      bufferOf.set(b.tensor, [arenaBase + b.offset, arenaBase + b.offset + b.bytes]);
  const tensorRegion = (id: number): Region => {
    const off = plan.tensorOffsets.get(id);
    const r = bufferOf.get(id);
    if (off === undefined || !r) throw new Error(`plan has no buffer for tensor '${graph.tensors[id]?.name ?? id}'`);
    return r;
  };
  const bufRegion = (i: number): Region => [
    arenaBase + plan.buffers[i]!.offset,
    arenaBase + plan.buffers[i]!.offset + plan.buffers[i]!.bytes,
  ];
  return plan.steps.map((s, step) => {
    if (s.kind === 'op') {
      const op = graph.ops[s.op]!;
      const outs = op.outputs.map(tensorRegion);
      return { reads: [weights, ...op.inputs.map(tensorRegion), ...outs], writes: outs };
    }
    if (s.kind === 'stream') {
      // Its own buffers (rings, states, the work area, live at this step only) and its output
      // tensor; it also reads its input tensor when that is whole in the arena.
      const own = plan.buffers.flatMap((b, i) =>
        b.firstStep === step && b.lastStep === step && (b.ring || b.tensor < 0) ? [bufRegion(i)] : [],
      );
      const out = tensorRegion(s.stages[s.stages.length - 1]!.output);
      const input = s.externalInput ? [] : [tensorRegion(s.stages[0]!.input)];
      return { reads: [weights, ...own, out, ...input], writes: [...own, out] };
    }
    const add = s.add >= 0 ? graph.ops[s.add]! : undefined;
    const y = tensorRegion(add ? add.outputs[0]! : graph.ops[s.project]!.outputs[0]!);
    const scratch = [bufRegion(s.expandBuffer), bufRegion(s.depthwiseBuffer)];
    const ins = [graph.ops[s.expand]!.inputs[0]!, ...(add ? add.inputs : [])]
      .filter((t) => plan.tensorOffsets.has(t))
      .map(tensorRegion);
    return { reads: [weights, ...ins, y, ...scratch], writes: [y, ...scratch] };
  });
}

function inside(r: ByteRange, regions: Region[]): boolean {
  const end = r.start + (r.rows - 1) * r.stride + r.bytes;
  if (r.bytes === 0 || r.rows === 0) return true;
  return regions.some(([a, b]) => r.start >= a && end <= b);
}

/** The check function for withRangeChecks; `currentStep` says which step is running. */
export function rangeChecker(regions: StepRegions[], currentStep: () => number, stepName: (i: number) => string) {
  return (name: KernelName, ranges: KernelRanges): void => {
    const i = currentStep();
    const allowed = regions[i];
    if (!allowed) throw new RangeViolationError(`kernel ${name} called outside any plan step`);
    for (const [kind, list, ok] of [
      ['reads', ranges.reads, allowed.reads],
      ['writes', ranges.writes, allowed.writes],
    ] as const) {
      for (const r of list) {
        if (!inside(r, ok)) {
          const end = r.start + (r.rows - 1) * r.stride + r.bytes;
          throw new RangeViolationError(
            `step ${i} (${stepName(i)}): ${name} ${kind} operand '${r.operand}' at [${r.start}, ${end}) outside the buffers the plan gave this step`,
          );
        }
      }
    }
  };
}
