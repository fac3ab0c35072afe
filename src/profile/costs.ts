/**
 * What each plan step computes and moves, from the graph and the plan alone:
 * multiply-adds, activation and weight bytes, chunk count, and which TFLite
 * operators of the file it runs. A profile puts these next to the measured
 * times (src/profile/profile.ts).
 */
import { opMultiplyAdds } from '../../planner/cost.js';
import { opConstants, tensorBytes, type Graph, type Op } from '../../planner/ir.js';
import type { Plan, PlanStep } from '../../planner/plan.js';
import { stageOfPlan, stageRows } from '../../planner/stream/stages.js';
import { stageWork } from '../../planner/stream/config.js';
import { readableName } from '../errors.js';
import { tilingMultiplyAdds } from '../../planner/block_schedule/index.js';
import type { Q8BlockLowering } from '../executor/lower.js';

export interface StepCost {
  step: number;
  kind: 'op' | 'block' | 'stream';
  /** IR ops the step runs (one, or a block's expansion, depthwise, projection and residual add). */
  ops: number[];
  /** In a few words: 'conv 1x1 320→1280', 'block 1x1→dw3x3/2→1x1 +add'. */
  what: string;
  /** The (first) op's name, shortened for a table. */
  name: string;
  /** Output shape of the step, e.g. '56x56x24' or '1001'. */
  out: string;
  /**
   * TFLite operator indices of the file this step computes, ascending: its ops' origins, and
   * operators the executed graph folded into it (`folded`); empty when the model has no operator indices.
   */
  operators: number[];
  /** TFLite builtin name of each of `operators`. */
  operatorTypes: string[];
  /** Operators with no op of their own in the executed graph, counted here (a QUANTIZE the float path drops, the resize of a fused resize + arg-max). */
  folded: number[];
  /** Multiply-adds of the graph's convolutions and fully-connected layers in this step. */
  macs: number;
  /** Multiply-adds the kernels compute: more than `macs` where a fused integer block recomputes halos. */
  executedMacs: number;
  /** Bytes of activations the step reads from the arena (each input tensor once) and of its weights. */
  activationBytesRead: number;
  weightBytes: number;
  /** Bytes of the tensors the step leaves in the arena. */
  bytesWritten: number;
  /** Section 5.1 chunks of a fused block; null for single ops. */
  chunks: number | null;
}

const kernelText = (op: { kernel: [number, number]; stride: [number, number] }): string =>
  `${op.kernel[0]}x${op.kernel[1]}${op.stride[0] > 1 || op.stride[1] > 1 ? `/${op.stride[0]}` : ''}`;

function channels(g: Graph, id: number): number {
  const s = g.tensors[id]!.shape;
  return s[s.length - 1]!;
}

/** A single op in a few words. */
export function describeOpShort(g: Graph, op: Op): string {
  const cin = op.inputs.length ? channels(g, op.inputs[0]!) : 0;
  const cout = channels(g, op.outputs[0]!);
  switch (op.kind) {
    case 'conv2d':
      return `conv ${kernelText(op)} ${cin}→${cout}`;
    case 'dwconv2d':
      return `dwconv ${kernelText(op)} ×${cout}`;
    case 'fully_connected':
      return `fully-connected ${g.tensors[op.weights]!.shape[1]}→${cout}`;
    case 'global_avgpool':
      return `global avg pool ×${cin}`;
    case 'avgpool':
      return `avg pool ${kernelText(op)}`;
    case 'resize_bilinear':
      return `resize ${op.size[0]}x${op.size[1]}`;
    case 'resize_argmax':
      return `resize ${op.size[0]}x${op.size[1]} + arg-max`;
    case 'argmax':
      return 'arg-max';
    case 'concat':
      return `concat ${op.inputs.length}`;
    default:
      return op.kind;
  }
}

function blockText(g: Graph, step: Extract<PlanStep, { kind: 'block' }>): string {
  const e = g.ops[step.expand]!;
  const d = g.ops[step.depthwise]!;
  const ek = e.kind === 'conv2d' ? kernelText(e) : '?';
  const dk = d.kind === 'dwconv2d' ? kernelText(d) : '?';
  const cin = channels(g, e.inputs[0]!);
  const cexp = channels(g, e.outputs[0]!);
  const cout = channels(g, g.ops[step.project]!.outputs[0]!);
  return `block ${ek}→dw${dk}→1x1${step.add >= 0 ? ' +add' : ''} ${cin}→${cexp}→${cout}`;
}

/** Multiply-adds a streamed step computes (recomputed expanded rows and columns included). */
function streamMultiplyAdds(graph: Graph, step: Extract<PlanStep, { kind: 'stream' }>): number {
  const path = graph.tensors[step.stages[0]!.input]!.dtype === 'f32' ? 'float' : 'integer';
  return step.stages.reduce((sum, s) => {
    const rows = stageRows(graph, stageOfPlan(graph, s));
    const w = stageWork(rows, s, path);
    return sum + w.gemmMultiplyAdds + w.convMultiplyAdds + w.depthwiseMultiplyAdds;
  }, 0);
}

/** Ops of a plan step, in the order they run. */
export function stepOps(step: PlanStep): number[] {
  if (step.kind === 'op') return [step.op];
  if (step.kind === 'stream') return step.stages.flatMap((s) => s.ops);
  return [step.expand, step.depthwise, step.project, ...(step.add >= 0 ? [step.add] : [])];
}

/**
 * Costs of every plan step of `graph` (the graph as executed: on the float path every
 * activation is float32). `q8Blocks` (the integer lowering's tiles) gives the multiply-adds
 * its fused blocks really compute; without it, executed = graph multiply-adds (the float
 * fused kernel keeps a ring of expanded rows and computes each once).
 */
export function stepCosts(
  graph: Graph,
  plan: Plan,
  q8Blocks: readonly Q8BlockLowering[] = [],
  fileGraph?: Graph,
): StepCost[] {
  const tiles = new Map(q8Blocks.map((b) => [b.step, b]));
  const folded = fileGraph
    ? foldedOperators(fileGraph, graph, plan)
    : new Map<number, { step: number; type: string }>();
  const costs = plan.steps.map((step, i) => {
    const ids = stepOps(step);
    const inStep = new Set(ids);
    const ops = ids.map((id) => graph.ops[id]!);
    const macs = ops.reduce((s, op) => s + opMultiplyAdds(graph, op), 0);
    const q8 = tiles.get(i);
    const executedMacs = q8
      ? tilingMultiplyAdds(q8.geometry, q8.tiling.tiles, q8.tiling.rolling)
      : step.kind === 'stream'
        ? streamMultiplyAdds(graph, step)
        : macs;
    // Tensors read from outside the step, each once; tensors left for later steps or as graph outputs.
    const reads = new Set<number>();
    const writes = new Set<number>();
    for (const op of ops) {
      for (const t of op.inputs) if (!inStep.has(graph.tensors[t]!.producer)) reads.add(t);
      for (const t of op.outputs) {
        const tensor = graph.tensors[t]!;
        const later = tensor.consumers.some((c) => !inStep.has(c)) || graph.outputs.includes(t);
        if (later && plan.tensorOffsets.has(t)) writes.add(t);
      }
    }
    // A reshape the plan aliases (same arena bytes) moves nothing.
    const aliased =
      step.kind === 'op' &&
      ops[0]!.kind === 'reshape' &&
      plan.tensorOffsets.get(ops[0]!.inputs[0]!) === plan.tensorOffsets.get(ops[0]!.outputs[0]!);
    const sum = (s: Set<number>) => [...s].reduce((acc, t) => acc + tensorBytes(graph.tensors[t]!), 0);
    const weightBytes = ops.reduce(
      (s, op) => s + opConstants(op).reduce((a, c) => a + tensorBytes(graph.tensors[c]!), 0),
      0,
    );
    const last = graph.tensors[ops[ops.length - 1]!.outputs[0]!]!;
    const types = new Map<number, string>();
    for (const op of ops) if (op.origin) types.set(op.origin.index, op.origin.type);
    const own = new Set(types.keys());
    for (const [index, f] of folded) if (f.step === i) types.set(index, f.type);
    const operators = [...types.keys()].sort((a, b) => a - b);
    return {
      step: i,
      kind: step.kind,
      ops: ids,
      what:
        step.kind === 'block'
          ? blockText(graph, step)
          : step.kind === 'stream'
            ? `stream of ${step.stages.length} stages (${step.stages.filter((s) => s.expanded === 'recompute' && s.kind === 'block').length} blocks recompute)`
            : `${describeOpShort(graph, ops[0]!)}${aliased ? ' (aliased: no work)' : ''}`,
      name: readableName(ops[0]!.name, 48),
      out: (last.shape[0] === 1 ? last.shape.slice(1) : last.shape).join('x'),
      operators,
      operatorTypes: operators.map((o) => types.get(o)!),
      folded: operators.filter((o) => !own.has(o)),
      macs,
      executedMacs,
      activationBytesRead: aliased ? 0 : sum(reads),
      weightBytes,
      bytesWritten: aliased ? 0 : sum(writes),
      chunks: step.kind === 'block' ? step.chunks : null,
    };
  });
  return costs;
}

/**
 * TFLite operators of the file (its imported graph, every op with its origin) that no executed
 * op comes from, each with the plan step that does its work: the step writing the same output
 * tensor (a fused resize + arg-max writes the arg-max's), else the step of a reader of its output
 * (a QUANTIZE of the input the float path drops), else of the writer of its input.
 */
function foldedOperators(file: Graph, executed: Graph, plan: Plan): Map<number, { step: number; type: string }> {
  const stepOfOp = new Map<number, number>();
  plan.steps.forEach((s, i) => stepOps(s).forEach((op) => stepOfOp.set(op, i)));
  const executedOrigins = new Set(executed.ops.map((op) => op.origin?.index));
  const writerStep = new Map<string, number>();
  for (const op of executed.ops)
    for (const t of op.outputs) writerStep.set(executed.tensors[t]!.name, stepOfOp.get(op.id)!);
  // Step of each file op: by origin where the executed graph kept it.
  const stepOfFileOp = new Map<number, number>();
  const originStep = new Map<number, number>();
  for (const op of executed.ops) if (op.origin) originStep.set(op.origin.index, stepOfOp.get(op.id)!);
  for (const op of file.ops) {
    if (!op.origin) continue;
    const s = originStep.get(op.origin.index);
    if (s !== undefined) stepOfFileOp.set(op.id, s);
  }
  const missing = file.ops.filter((op) => op.origin && !executedOrigins.has(op.origin.index));
  for (const op of missing) {
    const s = op.outputs.map((t) => writerStep.get(file.tensors[t]!.name)).find((x) => x !== undefined);
    if (s !== undefined) stepOfFileOp.set(op.id, s);
  }
  const settle = (next: (op: Op) => number | undefined) => {
    for (let changed = true; changed;) {
      changed = false;
      for (const op of missing) {
        if (stepOfFileOp.has(op.id)) continue;
        const s = next(op);
        if (s !== undefined) {
          stepOfFileOp.set(op.id, s);
          changed = true;
        }
      }
    }
  };
  settle((op) =>
    op.outputs
      .flatMap((t) => file.tensors[t]!.consumers)
      .map((c) => stepOfFileOp.get(c))
      .find((x) => x !== undefined),
  );
  settle((op) =>
    op.inputs
      .map((t) => file.tensors[t]!.producer)
      .map((p) => (p >= 0 ? stepOfFileOp.get(p) : undefined))
      .find((x) => x !== undefined),
  );
  const out = new Map<number, { step: number; type: string }>();
  for (const op of missing) {
    const s = stepOfFileOp.get(op.id);
    if (s !== undefined) out.set(op.origin!.index, { step: s, type: op.origin!.type });
  }
  return out;
}
