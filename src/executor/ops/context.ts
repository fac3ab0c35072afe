/**
 * What every op's lowering shares: the model and plan being lowered, the
 * weights image, the binder type, and the readers of shapes, constants and
 * quantization both numeric paths use.
 *
 * A lowering returns a Binder: called once with the memory's addresses, it
 * returns the Call inference runs. Weights are added to the image with their
 * size and a function that packs them, so the first (sizing) lowering pass
 * reads no weight; binders capture numbers only, so nothing the packing read
 * stays alive with the calls.
 */
import {
  describeShape,
  type Activation,
  type Conv2DOp,
  type Graph,
  type Op,
  type Tensor,
} from '../../../planner/ir.js';
import type { Plan } from '../../../planner/plan.js';
import type { ConstData, LoadedModel } from '../../model.js';
import type { BoundKernels, Kernels } from '../../kernels/index.js';
import { activationQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError, type WeightsImage } from '../weights_image.js';

/** Addresses a lowered call needs, known once memory is laid out. */
export interface BindContext {
  k: Kernels;
  /** The kernels taking named arguments (generated from the kernel schema): each call is bound once, here. */
  b: BoundKernels;
  /** Absolute address of a weights blob (relative offset → absolute). */
  weight(rel: number): number;
  /** Absolute address of a materialized tensor's buffer. */
  tensor(id: number): number;
  /** Absolute address of a plan buffer by index (chunk scratch, rings). */
  buffer(index: number): number;
  /**
   * Writes row r of the network input (model resolution, the input tensor's dtype) at
   * address `at`: a streamed step reading the caller's image asks for its rows one by one.
   */
  inputRow(r: number, at: number): void;
  /**
   * Absolute addresses of thread t's own chunk buffers (t ≥ 1) for a block whose
   * expanded-chunk buffer has `expandBytes` bytes (planner/threads.ts threadScratchAt).
   * Only for executors with threads > 1.
   */
  threadScratch?(t: number, expandBytes: number): { e: number; d: number };
}

export type Call = () => void;

/**
 * Computes part `piece` of a split step (a contiguous range of output rows;
 * planner/threads.ts splitRows) on thread `thread`, in that thread's scratch.
 */
export type PartBinder = (ctx: BindContext, piece: number, thread: number) => Call;

/**
 * Turns a lowered step into its call once addresses are known. `part`, on steps that
 * split across threads (lowered with threads > 1), binds one piece of the step (there are
 * as many pieces as threads) for one thread: whichever thread claims a piece first runs it.
 */
export type Binder = ((ctx: BindContext) => Call) & { part?: PartBinder };

export interface LowerContext {
  model: LoadedModel;
  graph: Graph;
  plan: Plan;
  weights: WeightsImage;
  /** Threads the executor runs the plan on (default 1): steps that split lower a `part` too. */
  threads?: number;
}

/** A call that does nothing (a thread's empty share of a step with fewer rows than threads). */
export const NOTHING: Call = () => {};

/** `whole`, with the per-thread parts of a split step (when lowering for more than one thread). */
export function splitBinder(whole: (ctx: BindContext) => Call, part: PartBinder | undefined): Binder {
  return part ? Object.assign(whole, { part }) : whole;
}

/** One op's lowering on each numeric path, and why a path cannot run it. */
export interface OpLowering<O extends Op = Op> {
  /** Why the float kernels cannot run this op (null: they can). */
  floatUnsupported?(g: Graph, op: O): string | null;
  float?(cx: LowerContext, op: O): Binder;
  /** Why the integer kernels cannot run this op (null: they can). */
  integerUnsupported(g: Graph, op: O): string | null;
  integer?(cx: LowerContext, op: O): Binder;
}

/** Height, width and channels of an NHWC tensor with batch 1. */
export function nhwc(t: Tensor): { h: number; w: number; c: number } {
  if (t.shape.length !== 4 || t.shape[0] !== 1)
    throw new Error(`tensor '${t.name}' must be NHWC with batch 1, got ${describeShape(t.shape)}`);
  return { h: t.shape[1]!, w: t.shape[2]!, c: t.shape[3]! };
}

/** The float clamp of a fused activation. */
export const clampOf = (act: Activation): [number, number] =>
  act === 'relu6' ? [0, 6] : act === 'relu' ? [0, Infinity] : [-Infinity, Infinity];

export const is1x1 = (op: Conv2DOp) =>
  op.kernel[0] === 1 &&
  op.kernel[1] === 1 &&
  op.stride[0] === 1 &&
  op.stride[1] === 1 &&
  op.pad.top + op.pad.bottom + op.pad.left + op.pad.right === 0;

export const is3x3s2 = (op: Conv2DOp) =>
  op.kernel[0] === 3 &&
  op.kernel[1] === 3 &&
  op.stride[0] === 2 &&
  op.stride[1] === 2 &&
  op.dilation[0] === 1 &&
  op.dilation[1] === 1;

/** A constant's data, read from the model now (inside a weights packer, so only the writing pass reads it). */
function constant(model: LoadedModel, id: number, op: Op): ConstData {
  const c = model.constants.get(id);
  if (!c) throw new UnsupportedOpError(op, `constant '${model.graph.tensors[id]?.name ?? id}' has no data`);
  return c;
}

export function f32Const(model: LoadedModel, id: number, op: Op): Float32Array {
  const c = constant(model, id, op);
  if (!(c instanceof Float32Array))
    throw new UnsupportedOpError(
      op,
      `constant '${model.graph.tensors[id]?.name ?? id}' is not float32 (the float executor needs a dequantized model)`,
    );
  return c;
}

export function intConst(model: LoadedModel, id: number, op: Op): Uint8Array | Int8Array {
  const c = constant(model, id, op);
  if (!(c instanceof Uint8Array) && !(c instanceof Int8Array))
    throw new UnsupportedOpError(
      op,
      `weights '${model.graph.tensors[id]?.name ?? id}' are not uint8/int8 (the integer path needs the quantized file as imported)`,
    );
  return c;
}

export function biasConst(model: LoadedModel, id: number, op: Op): Int32Array | null {
  if (id < 0) return null;
  const c = constant(model, id, op);
  if (!(c instanceof Int32Array))
    throw new UnsupportedOpError(op, `bias '${model.graph.tensors[id]?.name ?? id}' is not int32`);
  return c;
}

/** 1 for int8 kernels, 0 for uint8. */
export const sgOf = (dtype: 'u8' | 'i8') => (dtype === 'i8' ? 1 : 0);

/** Quantization of an op's input i and output, same dtype required (TFLite's rule for these ops). */
export function ioQuant(g: Graph, op: Op, i = 0) {
  const x = activationQuant(g.tensors[op.inputs[i]!]!, op);
  const y = activationQuant(g.tensors[op.outputs[0]!]!, op);
  if (x.dtype !== y.dtype)
    throw new UnsupportedOpError(op, `input is ${x.dtype} and output ${y.dtype}; only QUANTIZE changes the type`);
  return { x, y, sg: sgOf(y.dtype) };
}

/** A uint8/int8 tensor with one scale and zero point. */
export function perTensorQuantized(g: Graph, id: number): boolean {
  const t = g.tensors[id]!;
  return (t.dtype === 'u8' || t.dtype === 'i8') && !!t.quant && t.quant.scale.length === 1;
}

/** Null when every input and output of `op` is per-tensor quantized, else the reason. */
export function ioQuantizedReason(g: Graph, op: Op): string | null {
  return [...op.inputs, ...op.outputs].every((id) => perTensorQuantized(g, id))
    ? null
    : 'needs per-tensor quantized uint8/int8 inputs and outputs';
}

/**
 * Why the kernels cannot take an op's quantized weights (src/kernels/q8_pack.ts): uint8
 * weights need one zero point for all channels (as TFLite's uint8 kernels and XNNPACK's qu8
 * operators), int8 weights zero point 0 (TFLite's int8 quantization spec; its int8 kernels
 * and XNNPACK's qs8 operators have no filter zero point).
 */
export function weightsReason(w: Tensor): string | null {
  const zp = w.quant?.zeroPoint ?? [];
  if (w.dtype === 'u8' && zp.some((z) => z !== zp[0])) return 'uint8 weights with per-channel zero points';
  if (w.dtype === 'i8' && zp.some((z) => z !== 0)) return 'int8 weights with a nonzero zero point';
  return null;
}

/** The weight zero point the q8 kernels subtract in registers: uint8 weights' one zero point, 0 for int8. */
export function kernelZeroPoint(w: Tensor): number {
  return w.dtype === 'i8' ? 0 : (w.quant?.zeroPoint[0] ?? 0);
}

/** The input plane as the kernels name it: H, W and C. */
export function inputPlane(g: Graph, op: Op): { H: number; W: number; C: number } {
  const x = nhwc(g.tensors[op.inputs[0]!]!);
  return { H: x.h, W: x.w, C: x.c };
}

/** Plane sizes as the kernels name them: the input's H, W and C, the output's OH and OW. */
export function planeArgs(g: Graph, op: Op): { H: number; W: number; C: number; OH: number; OW: number } {
  const y = nhwc(g.tensors[op.outputs[0]!]!);
  return { ...inputPlane(g, op), OH: y.h, OW: y.w };
}

/** A bilinear resize's output size and coordinate rule, as the kernels name them. */
export const resizeArgs = (op: { size: [number, number]; alignCorners: boolean; halfPixelCenters: boolean }) => ({
  OH: op.size[0],
  OW: op.size[1],
  alignCorners: op.alignCorners ? 1 : 0,
  halfPixelCenters: op.halfPixelCenters ? 1 : 0,
});

/** Null when input and output are per-tensor quantized on one grid (the op copies or averages values), else why not. */
export function sameGridReason(g: Graph, op: Op, what: string): string | null {
  const why = ioQuantizedReason(g, op);
  if (why) return why;
  const [a, b] = [g.tensors[op.inputs[0]!]!.quant!, g.tensors[op.outputs[0]!]!.quant!];
  return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0]
    ? null
    : `${what} with different input and output quantization`;
}

/** Strides, dilations and top/left padding of a windowed op, as the kernels name them. */
export function windowArgs(op: {
  stride: [number, number];
  dilation?: [number, number];
  pad: { top: number; left: number };
}) {
  const [dh, dw] = op.dilation ?? [1, 1];
  return { sh: op.stride[0], sw: op.stride[1], dh, dw, padTop: op.pad.top, padLeft: op.pad.left };
}

/** The addresses of the op's first input (x) and its output (y). */
export const ioArgs = (c: BindContext, op: Op) => ({ x: c.tensor(op.inputs[0]!), y: c.tensor(op.outputs[0]!) });
