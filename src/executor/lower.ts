/**
 * Lowering: turns each plan step into kernel calls with every argument fixed
 * in advance, and packs the weights those calls read. Runs after planning and
 * before the first inference; inference then only calls the prepared closures
 * (no per-op JS allocation). One file per op in ops/ holds its float and
 * integer lowering; fused Section 5.1 blocks are ops/block.ts.
 *
 * The integer path runs the imported uint8/int8 graph as it is, with the
 * arithmetic of src/reference/q8_ops.ts (TFLite with XNNPACK, bit for bit).
 */
import type { Graph, Tensor } from '../../planner/ir.js';
import type { Plan, PlanStep } from '../../planner/plan.js';
import type { LoadedModel } from '../model.js';
import { describeOp, ModelError, readableName } from '../errors.js';
import { floatHighWater } from '../../planner/block_schedule/index.js';
import { floatBlock, integerBlock, type Q8BlockLowering } from './ops/block.js';
import { streamStep } from './ops/stream.js';
import type { Binder, BindContext, Call, LowerContext } from './ops/context.js';
import { opLowering } from './ops/index.js';
import { UnsupportedOpError, WeightsImage } from './weights_image.js';

export { UnsupportedOpError, WeightsImage, type WeightsTarget } from './weights_image.js';
export type { BindContext, Call } from './ops/context.js';
export type { Q8BlockLowering } from './ops/block.js';

export interface LoweredProgram {
  weights: WeightsImage;
  bind(ctx: BindContext): Call[];
  /**
   * Lowered for threads > 1: piece `piece` of each step that splits across threads, as
   * thread `thread` runs it (in its scratch); null for a step that runs whole on thread 0.
   */
  bindPart(ctx: BindContext, piece: number, thread: number): (Call | null)[];
}

function program(weights: WeightsImage, binders: Binder[]): LoweredProgram {
  return {
    weights,
    bind: (ctx) => binders.map((b) => b(ctx)),
    bindPart: (ctx, piece, thread) => binders.map((b) => (b.part ? b.part(ctx, piece, thread) : null)),
  };
}

export interface Q8LoweredProgram extends LoweredProgram {
  blocks: Q8BlockLowering[];
}

/** A plan step as messages name it: its op, or a block's expansion .. projection ops. */
export function describeStep(g: Graph, step: PlanStep): string {
  if (step.kind === 'op') return describeOp(g.ops[step.op]!);
  if (step.kind === 'stream') {
    const [a, z] = [step.stages[0]!, step.stages[step.stages.length - 1]!];
    const [e, p] = [g.ops[a.ops[0]!]!, g.ops[z.ops[z.ops.length - 1]!]!];
    const range = e.origin && p.origin ? `operators ${e.origin.index}..${p.origin.index}` : 'ops';
    return `streamed unit (${range}) '${readableName(e.name)}'..'${readableName(p.name)}'`;
  }
  const [e, p] = [g.ops[step.expand]!, g.ops[step.project]!];
  const range = e.origin && p.origin ? `operators ${e.origin.index}..${p.origin.index}` : 'ops';
  return `inverted residual block (${range}) '${readableName(e.name)}'`;
}

/**
 * Lowers one step; an error becomes a ModelError on one line naming the model's
 * file and the step's operator, whatever deep helper threw it.
 */
export function lowerStep<T>(model: LoadedModel, step: PlanStep, lower: () => T): T {
  try {
    return lower();
  } catch (e) {
    if (e instanceof ModelError) throw e;
    if (e instanceof UnsupportedOpError) throw new ModelError(model.source, describeOp(e.op), e.why);
    throw new ModelError(model.source, describeStep(model.graph, step), (e as Error).message);
  }
}

/** A uint8/int8 activation holding quantized values (not the byte class ids of an arg-max, which the float path writes too). */
export function isQuantizedActivation(graph: Graph, t: Tensor): boolean {
  if (t.constant || (t.dtype !== 'u8' && t.dtype !== 'i8')) return false;
  const p = t.producer >= 0 ? graph.ops[t.producer]!.kind : undefined;
  return p !== 'argmax' && p !== 'resize_argmax';
}

/** True when the graph computes on quantized activations (uint8 / int8): the integer path runs it as it is. */
export function isIntegerGraph(graph: Graph): boolean {
  return graph.tensors.some((t) => isQuantizedActivation(graph, t));
}

/** Ops the integer path does not run, with the reason (empty when it runs the whole graph). */
export function q8UnsupportedOps(graph: Graph): string[] {
  const out: string[] = [];
  for (const op of graph.ops) {
    const why = opLowering(op).integerUnsupported(graph, op);
    if (why) out.push(`'${op.name}' (${op.kind}): ${why}`);
  }
  return out;
}

/** Lowers every step of `plan` for the float kernels (float32 activations). */
export function lowerPlan(model: LoadedModel, plan: Plan, weights = new WeightsImage(), threads = 1): LoweredProgram {
  const cx: LowerContext = { model, graph: model.graph, plan, weights, threads };
  const binders: Binder[] = plan.steps.map((step) =>
    lowerStep(model, step, () => {
      if (step.kind === 'block') return floatBlock(cx, step);
      if (step.kind === 'stream') return streamStep(cx, step, false);
      const op = model.graph.ops[step.op]!;
      const lowering = opLowering(op);
      if (!lowering.float) throw new UnsupportedOpError(op, 'the float path does not run this op');
      return lowering.float(cx, op);
    }),
  );
  return program(weights, binders);
}

/** Bytes above the float high-water a block may use for the int32 sums of its last pixels. */
export const HIGH_WATER_SLACK_BYTES = 512;

/** Lowers every step of `plan` for the integer graph of `model` (quantized tensors as imported). */
export function lowerPlanQ8(
  model: LoadedModel,
  plan: Plan,
  weights = new WeightsImage(),
  threads = 1,
): Q8LoweredProgram {
  const cx: LowerContext = { model, graph: model.graph, plan, weights, threads };
  const blocks: Q8BlockLowering[] = [];
  // Blocks keep below the float schedule's high-water (plus a little for the partial sums of
  // the last pixels) when they can: the integer path then touches a quarter of the float path's memory.
  const highWater = floatHighWater(model.graph, plan) + HIGH_WATER_SLACK_BYTES;
  const g = model.graph;
  const binders: Binder[] = plan.steps.map((step, i) =>
    lowerStep(model, step, () => {
      if (step.kind === 'block') {
        for (const id of [step.expand, step.depthwise, step.project, ...(step.add >= 0 ? [step.add] : [])]) {
          const op = g.ops[id]!;
          const why = opLowering(op).integerUnsupported(g, op);
          if (why) throw new UnsupportedOpError(op, `integer path: ${why}`);
        }
        return integerBlock(cx, step, i, blocks, highWater);
      }
      if (step.kind === 'stream') {
        for (const id of step.stages.flatMap((st) => st.ops)) {
          const op = g.ops[id]!;
          const why = opLowering(op).integerUnsupported(g, op);
          if (why) throw new UnsupportedOpError(op, `integer path: ${why}`);
        }
        return streamStep(cx, step, true);
      }
      const op = g.ops[step.op]!;
      const lowering = opLowering(op);
      const why = lowering.integerUnsupported(g, op);
      if (why || !lowering.integer)
        throw new UnsupportedOpError(
          op,
          `integer path: ${why ?? 'not implemented'} (run the dequantized float path instead: --float)`,
        );
      return lowering.integer(cx, op);
    }),
  );
  return { ...program(weights, binders), blocks };
}
