/**
 * Lowering: turns each plan step into kernel calls with every argument
 * fixed in advance, and packs the weights those calls read. Runs once, after
 * planning and before the first inference; inference then only calls the
 * prepared closures (no per-op JS allocation).
 */
import {
  tensorElements,
  type Activation,
  type Conv2DOp,
  type DepthwiseConv2DOp,
  type Graph,
  type Op,
} from '../../planner/ir.js';
import type { BlockStep, Plan, PlanStep } from '../../planner/plan.js';
import type { ConstData, LoadedModel } from '../model.js';
import { describeOp, ModelError, readableName } from '../errors.js';
import {
  packConv,
  packConv3x3,
  packDepthwise3x3,
  packFullyConnected,
  packFusedBlock,
  packGemm1x1,
  type Kernels,
} from '../kernels/index.js';
import { blockStepSchedule } from '../../planner/block_schedule.js';
import { alignUp } from './layout.js';

export class UnsupportedOpError extends Error {
  constructor(
    readonly op: Op,
    readonly why: string,
  ) {
    super(`${describeOp(op)}: ${why}`);
    this.name = 'UnsupportedOpError';
  }
}

/** A plan step as messages name it: its op, or a block's expansion .. projection ops. */
export function describeStep(g: Graph, step: PlanStep): string {
  if (step.kind === 'op') return describeOp(g.ops[step.op]!);
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

/** Addresses a lowered call needs, known once memory is laid out. */
export interface BindContext {
  k: Kernels;
  /** Absolute address of a weights blob (relative offset → absolute). */
  weight(rel: number): number;
  /** Absolute address of a materialized tensor's buffer. */
  tensor(id: number): number;
  /** Absolute address of a plan buffer by index (chunk scratch). */
  buffer(index: number): number;
}

export type Call = () => void;
type Binder = (ctx: BindContext) => Call;

/** Where a lowering writes its packed weights: the weights region of the executor's memory. */
export interface WeightsTarget {
  mem: Uint8Array;
  base: number;
  /** Bytes of the region: a blob that would not fit is refused. */
  limit: number;
}

/**
 * Packed weights, laid end to end (16-byte aligned) in the weights region.
 * The executor lowers a plan twice: first without a target, which only
 * counts bytes (the memory's final size); then with the memory as target,
 * where each packed blob is copied in as it is made and not kept. So the
 * weights are never held whole in JavaScript, packed or unpacked.
 */
export class WeightsImage {
  bytes = 0;

  constructor(private readonly target?: WeightsTarget) {}

  add(data: Float32Array | Int32Array | Uint8Array | Int8Array): number {
    const offset = this.bytes;
    this.bytes = alignUp(offset + data.byteLength);
    const t = this.target;
    if (t) {
      if (offset + data.byteLength > t.limit)
        throw new Error(`weights: a ${data.byteLength}-byte blob at ${offset} does not fit the ${t.limit}-byte region`);
      t.mem.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), t.base + offset);
    }
    return offset;
  }
}

export interface LoweredProgram {
  weights: WeightsImage;
  bind(ctx: BindContext): Call[];
}

const clampOf = (act: Activation): [number, number] =>
  act === 'relu6' ? [0, 6] : act === 'relu' ? [0, Infinity] : [-Infinity, Infinity];

/** 1 when a resize_argmax writes int32 class ids, 0 for bytes; refuses other dtypes and byte ids that cannot hold C classes. */
export function classIdOutput(op: Op, dtype: string, classes: number): number {
  if (dtype === 'i32') return 1;
  if (dtype === 'u8' && classes <= 256) return 0;
  throw new UnsupportedOpError(
    op,
    `class ids of ${classes} classes cannot be written as ${dtype} (u8 up to 256 classes, else i32)`,
  );
}

function f32Const(model: LoadedModel, id: number, op: Op): Float32Array {
  const c: ConstData | undefined = model.constants.get(id);
  if (!(c instanceof Float32Array))
    throw new UnsupportedOpError(
      op,
      `constant '${model.graph.tensors[id]?.name ?? id}' is not float32 (the float executor needs a dequantized model)`,
    );
  return c;
}

function biasSlice(model: LoadedModel, op: Conv2DOp | DepthwiseConv2DOp, start: number, count: number): Float32Array {
  if (op.bias < 0) return new Float32Array(count);
  return f32Const(model, op.bias, op).slice(start, start + count);
}

const hw = (g: Graph, id: number) => {
  const s = g.tensors[id]!.shape;
  return { h: s[1]!, w: s[2]!, c: s[3]! };
};

const is1x1 = (op: Conv2DOp) =>
  op.kernel[0] === 1 &&
  op.kernel[1] === 1 &&
  op.stride[0] === 1 &&
  op.stride[1] === 1 &&
  op.pad.top + op.pad.bottom + op.pad.left + op.pad.right === 0;
const is3x3s2 = (op: Conv2DOp) =>
  op.kernel[0] === 3 &&
  op.kernel[1] === 3 &&
  op.stride[0] === 2 &&
  op.stride[1] === 2 &&
  op.dilation[0] === 1 &&
  op.dilation[1] === 1;

/**
 * Lowers a conv2d over output channels [ocStart, ocStart+ocCount) into a call
 * writing an [OH][OW][ocCount] buffer. Used whole by op steps and per chunk by
 * block steps (Section 5.1 splits the expansion's output channels).
 */
function lowerConv(
  model: LoadedModel,
  weights: WeightsImage,
  op: Conv2DOp,
  ocStart: number,
  ocCount: number,
  src: (c: BindContext) => number,
  dst: (c: BindContext) => number,
  act: Activation,
): Binder {
  const g = model.graph;
  const x = hw(g, op.inputs[0]!);
  const yS = g.tensors[op.outputs[0]!]!.shape;
  const oh = yS[1]!;
  const ow = yS[2]!;
  const oc = yS[3]!;
  const w = f32Const(model, op.weights, op);
  const b = weights.add(biasSlice(model, op, ocStart, ocCount));
  const [lo, hi] = clampOf(act);
  if (is1x1(op)) {
    const pw = weights.add(packGemm1x1(w, oc, x.c, ocStart, ocCount, 0, x.c));
    return (c) => {
      const xs = src(c),
        ys = dst(c),
        wa = c.weight(pw),
        ba = c.weight(b),
        k = c.k;
      return () => k.f32_gemm_1x1(xs, x.h * x.w, x.c, wa, ba, ys, ocCount, lo, hi, 0, 0);
    };
  }
  if (is3x3s2(op)) {
    const pw = weights.add(packConv3x3(w, oc, x.c, ocStart, ocCount));
    return (c) => {
      const xs = src(c),
        ys = dst(c),
        wa = c.weight(pw),
        ba = c.weight(b),
        k = c.k;
      return () => k.f32_conv3x3_s2(xs, x.h, x.w, x.c, ys, oh, ow, ocCount, op.pad.top, op.pad.left, wa, ba, lo, hi);
    };
  }
  const kh = op.kernel[0],
    kw = op.kernel[1];
  const pw = weights.add(packConv(w, oc, kh, kw, x.c, ocStart, ocCount));
  return (c) => {
    const xs = src(c),
      ys = dst(c),
      wa = c.weight(pw),
      ba = c.weight(b),
      k = c.k;
    return () =>
      k.f32_conv2d_generic(
        xs,
        x.h,
        x.w,
        x.c,
        ys,
        oh,
        ow,
        ocCount,
        kh,
        kw,
        op.stride[0],
        op.stride[1],
        op.dilation[0],
        op.dilation[1],
        op.pad.top,
        op.pad.left,
        wa,
        ba,
        lo,
        hi,
      );
  };
}

/** Lowers a depthwise conv over channels [cStart, cStart+cCount) of a cCount-channel buffer. */
function lowerDepthwise(
  model: LoadedModel,
  weights: WeightsImage,
  op: DepthwiseConv2DOp,
  cStart: number,
  cCount: number,
  src: (c: BindContext) => number,
  dst: (c: BindContext) => number,
): Binder {
  const g = model.graph;
  if (op.depthMultiplier !== 1)
    throw new UnsupportedOpError(op, `depth multiplier ${op.depthMultiplier} is not supported (only 1)`);
  if (op.kernel[0] !== 3 || op.kernel[1] !== 3)
    throw new UnsupportedOpError(op, `depthwise kernel ${op.kernel.join('x')} is not supported (only 3x3)`);
  const x = hw(g, op.inputs[0]!);
  const y = hw(g, op.outputs[0]!);
  const w = f32Const(model, op.weights, op);
  const pw = weights.add(packDepthwise3x3(w, y.c, cStart, cCount));
  const b = weights.add(biasSlice(model, op, cStart, cCount));
  const [lo, hi] = clampOf(op.act);
  const dil = op.dilation[0] !== 1 || op.dilation[1] !== 1;
  const s = op.stride[0] === op.stride[1] ? op.stride[0] : 0;
  return (c) => {
    const xs = src(c),
      ys = dst(c),
      wa = c.weight(pw),
      ba = c.weight(b),
      k = c.k;
    if (!dil && s === 1)
      return () => k.f32_dwconv3x3_s1(xs, x.h, x.w, cCount, ys, y.h, y.w, op.pad.top, op.pad.left, wa, ba, lo, hi);
    if (!dil && s === 2)
      return () => k.f32_dwconv3x3_s2(xs, x.h, x.w, cCount, ys, y.h, y.w, op.pad.top, op.pad.left, wa, ba, lo, hi);
    return () =>
      k.f32_dwconv3x3_generic(
        xs,
        x.h,
        x.w,
        cCount,
        ys,
        y.h,
        y.w,
        op.stride[0],
        op.stride[1],
        op.dilation[0],
        op.dilation[1],
        op.pad.top,
        op.pad.left,
        wa,
        ba,
        lo,
        hi,
      );
  };
}

function lowerOp(model: LoadedModel, plan: Plan, weights: WeightsImage, op: Op): Binder {
  const g = model.graph;
  const inT =
    (i = 0) =>
    (c: BindContext) =>
      c.tensor(op.inputs[i]!);
  const outT = (c: BindContext) => c.tensor(op.outputs[0]!);
  const x = g.tensors[op.inputs[0]!]!;
  const y = g.tensors[op.outputs[0]!]!;
  switch (op.kind) {
    case 'conv2d':
      return lowerConv(model, weights, op, 0, y.shape[3]!, inT(), outT, op.act);
    case 'dwconv2d':
      return lowerDepthwise(model, weights, op, 0, y.shape[3]!, inT(), outT);
    case 'add': {
      const n = tensorElements(y);
      const [lo, hi] = clampOf(op.act);
      return (c) => {
        const a = c.tensor(op.inputs[0]!),
          b = c.tensor(op.inputs[1]!),
          o = outT(c),
          k = c.k;
        return () => k.f32_add(a, b, o, n, lo, hi);
      };
    }
    case 'global_avgpool': {
      const s = x.shape;
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => k.f32_global_avgpool(a, s[1]! * s[2]!, s[3]!, o);
      };
    }
    case 'avgpool': {
      const s = x.shape;
      const [lo, hi] = clampOf(op.act);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.f32_avgpool_generic(
            a,
            s[1]!,
            s[2]!,
            s[3]!,
            o,
            y.shape[1]!,
            y.shape[2]!,
            op.kernel[0],
            op.kernel[1],
            op.stride[0],
            op.stride[1],
            op.pad.top,
            op.pad.left,
            lo,
            hi,
          );
      };
    }
    case 'fully_connected': {
      const ws = g.tensors[op.weights]!.shape;
      const n = ws[0]!,
        kk = ws[1]!;
      const pw = weights.add(packFullyConnected(f32Const(model, op.weights, op), n, kk));
      const b = weights.add(op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(n));
      const [lo, hi] = clampOf(op.act);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          wa = c.weight(pw),
          ba = c.weight(b),
          k = c.k;
        return () => k.f32_fully_connected(a, kk, wa, ba, o, n, lo, hi);
      };
    }
    case 'softmax': {
      const n = y.shape[y.shape.length - 1]!;
      const rows = tensorElements(y) / n;
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => {
          for (let r = 0; r < rows; r++) k.f32_softmax(a + r * n * 4, n, o + r * n * 4, op.beta);
        };
      };
    }
    case 'reshape': {
      const bytes = tensorElements(y) * 4;
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        if (a === o) return () => {}; // aliased by the plan: same bytes, new shape
        return () => k.copy_strided(a, o, 1, bytes, bytes, bytes);
      };
    }
    case 'concat': {
      const rank = y.shape.length;
      const axis = op.axis < 0 ? op.axis + rank : op.axis;
      const outer = y.shape.slice(0, axis).reduce((p, d) => p * d, 1);
      const outRow = y.shape.slice(axis).reduce((p, d) => p * d, 1) * 4;
      const parts = op.inputs.map((id) => g.tensors[id]!.shape.slice(axis).reduce((p, d) => p * d, 1) * 4);
      return (c) => {
        const o = outT(c),
          k = c.k;
        const srcs = op.inputs.map((id) => c.tensor(id));
        return () => {
          let col = 0;
          for (let i = 0; i < srcs.length; i++) {
            k.copy_strided(srcs[i]!, o + col, outer, parts[i]!, parts[i]!, outRow);
            col += parts[i]!;
          }
        };
      };
    }
    case 'resize_bilinear': {
      const s = x.shape;
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.f32_resize_bilinear(
            a,
            s[1]!,
            s[2]!,
            s[3]!,
            o,
            op.size[0],
            op.size[1],
            op.alignCorners ? 1 : 0,
            op.halfPixelCenters ? 1 : 0,
          );
      };
    }
    case 'argmax': {
      const s = x.shape;
      const ch = s[s.length - 1]!;
      if (op.axis !== s.length - 1)
        throw new UnsupportedOpError(
          op,
          `arg-max over axis ${op.axis} of [${s.join(',')}]; only the last (channel) axis is supported`,
        );
      if (y.dtype !== 'i32')
        throw new UnsupportedOpError(
          op,
          `output '${y.name}' is ${y.dtype}; the float kernel writes int32 class ids (dequantizeModel makes arg-max outputs int32)`,
        );
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => k.f32_argmax_channels(a, tensorElements(x) / ch, ch, o);
      };
    }
    case 'resize_argmax': {
      const s = x.shape;
      const outI32 = classIdOutput(op, y.dtype, s[3]!);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.f32_resize_argmax(
            a,
            s[1]!,
            s[2]!,
            s[3]!,
            o,
            op.size[0],
            op.size[1],
            op.alignCorners ? 1 : 0,
            op.halfPixelCenters ? 1 : 0,
            outI32,
          );
      };
    }
    case 'quantize':
    case 'dequantize':
      throw new UnsupportedOpError(
        op,
        'quantize/dequantize ops must be removed by dequantizeModel before float execution',
      );
  }
  void plan;
}

/**
 * Section 5.1 block as one call of the fused kernel (assembly/fused.ts): expansion →
 * depthwise → projection accumulated into y, never materializing the expanded or
 * depthwise tensors. The kernel's schedule (channel groups, ring of expanded rows, band of
 * depthwise rows; planner/block_schedule.ts) is derived from the plan's chunk size, so it
 * touches only the two chunk buffers the plan placed, and the weights are packed per group.
 */
function lowerBlock(model: LoadedModel, plan: Plan, weights: WeightsImage, step: BlockStep): Binder {
  const g = model.graph;
  const expand = g.ops[step.expand] as Conv2DOp;
  const dw = g.ops[step.depthwise] as DepthwiseConv2DOp;
  const project = g.ops[step.project] as Conv2DOp;
  const add = step.add >= 0 ? g.ops[step.add]! : undefined;
  if (expand.kind !== 'conv2d' || dw.kind !== 'dwconv2d' || project.kind !== 'conv2d' || !is1x1(project)) {
    throw new Error(`plan step is not an inverted residual block: '${expand.name}' → '${dw.name}' → '${project.name}'`);
  }
  const stem = !is1x1(expand);
  if (stem && !is3x3s2(expand))
    throw new UnsupportedOpError(
      expand,
      `a fused block's expansion must be 1x1 or the 3x3 stride-2 stem conv, got ${expand.kernel.join('x')} stride ${expand.stride.join(',')}`,
    );
  if (expand.act !== 'relu6' || dw.act !== 'relu6')
    throw new UnsupportedOpError(
      dw,
      `the fused block needs ReLU6 after the expansion and the depthwise, got ${expand.act} and ${dw.act}`,
    );
  if (dw.depthMultiplier !== 1 || dw.kernel[0] !== 3 || dw.kernel[1] !== 3)
    throw new UnsupportedOpError(dw, `the fused block needs a 3x3 depthwise with multiplier 1`);
  const xId = expand.inputs[0]!;
  const yId = add ? add.outputs[0]! : project.outputs[0]!;
  const xs = hw(g, xId);
  const es = hw(g, expand.outputs[0]!);
  const ds = hw(g, dw.outputs[0]!);
  const cExp = es.c;
  const cOut = g.tensors[yId]!.shape[3]!;
  const residualId = add ? (add.inputs.find((i) => i !== project.outputs[0]) ?? -1) : -1;
  const [lo, hi] = clampOf(add ? (add as { act: Activation }).act : project.act);
  const sched = blockStepSchedule(g, step);
  for (const [what, index, used] of [
    ['expanded', step.expandBuffer, sched.expandBytesUsed],
    ['depthwise', step.depthwiseBuffer, sched.depthwiseBytesUsed],
  ] as const) {
    const b = plan.buffers[index];
    if (!b || b.bytes < used)
      throw new Error(
        `block '${expand.name}': the ${what}-chunk buffer #${index} has ${b?.bytes ?? 0} bytes; the fused kernel's schedule needs ${used}`,
      );
  }
  const bias = (op: Conv2DOp | DepthwiseConv2DOp) => (op.bias >= 0 ? f32Const(model, op.bias, op) : null);
  const packed = packFusedBlock(
    {
      expand: f32Const(model, expand.weights, expand),
      expandBias: bias(expand),
      depthwise: f32Const(model, dw.weights, dw),
      depthwiseBias: bias(dw),
      project: f32Const(model, project.weights, project),
      projectBias: bias(project),
    },
    xs.c,
    cExp,
    cOut,
    stem,
    sched.groupChannels,
  );
  const wOff = weights.add(packed);
  const [sh, sw] = dw.stride;
  const [dh, dwl] = dw.dilation;
  const ePadTop = stem ? expand.pad.top : 0,
    ePadLeft = stem ? expand.pad.left : 0;
  return (c) => {
    const k = c.k;
    const x = c.tensor(xId),
      y = c.tensor(yId),
      w = c.weight(wOff);
    const res = residualId >= 0 ? c.tensor(residualId) : 0;
    const e = c.buffer(step.expandBuffer),
      d = c.buffer(step.depthwiseBuffer);
    const { groupChannels: gc, ringRows, bandRows } = sched;
    return () =>
      k.f32_block_fused(
        x,
        xs.h,
        xs.w,
        xs.c,
        stem ? 1 : 0,
        es.h,
        es.w,
        ePadTop,
        ePadLeft,
        cExp,
        sh,
        sw,
        dh,
        dwl,
        dw.pad.top,
        dw.pad.left,
        y,
        ds.h,
        ds.w,
        cOut,
        w,
        res,
        lo,
        hi,
        e,
        d,
        gc,
        ringRows,
        bandRows,
      );
  };
}

export function lowerPlan(model: LoadedModel, plan: Plan, weights = new WeightsImage()): LoweredProgram {
  const binders: Binder[] = plan.steps.map((step: PlanStep) =>
    lowerStep(model, step, () =>
      step.kind === 'block'
        ? lowerBlock(model, plan, weights, step)
        : lowerOp(model, plan, weights, model.graph.ops[step.op]!),
    ),
  );
  return { weights, bind: (ctx) => binders.map((b) => b(ctx)) };
}
