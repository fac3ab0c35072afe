/**
 * Lowering of integer (uint8 / int8) graphs: each plan step of the imported TFLite graph,
 * as it is, becomes q8 kernel calls with every argument fixed in advance, and the weights
 * those calls read are packed once (zero points folded into int32 biases, per-channel
 * float32 multipliers, output parameter blocks). The arithmetic is the one of
 * src/reference/q8_ops.ts (TFLite with XNNPACK, bit for bit); the multipliers come from
 * the same functions.
 *
 * Fused blocks (Section 5.1) become one q8_block call whose descriptor lists the tiles
 * q8_block_tiles.ts chose to fit the projection's int32 accumulators inside the block's
 * own buffers.
 */
import {
  describeShape,
  DTYPE_BYTES,
  tensorElements,
  type Conv2DOp,
  type DepthwiseConv2DOp,
  type Graph,
  type Op,
  type Tensor,
} from '../../planner/ir.js';
import type { BlockStep, Plan, PlanStep } from '../../planner/plan.js';
import type { ConstData, LoadedModel } from '../model.js';
import {
  classIdOutput,
  UnsupportedOpError,
  lowerStep,
  WeightsImage,
  type BindContext,
  type Call,
  type LoweredProgram,
} from './lower.js';
import {
  foldQ8Bias,
  foldQ8DepthwiseBias,
  packQ8Conv,
  packQ8Depthwise,
  packQ8Gemm,
  padQ8DepthwiseScales,
  padQ8Scales,
  q8DepthwisePairBytes,
  q8OutputParams,
  Q8_NR,
} from '../kernels/q8_pack.js';
import { activationRange, addParams, convertMultiplier, dtypeRange, meanScale } from '../reference/q8_ops.js';
import { activationQuant, weightQuant } from '../reference/q8_interpreter.js';
import { floatHighWater } from './float_high_water.js';
import { planBlockTiles, type BlockGeometry, type BlockTiling } from './q8_block_tiles.js';

type Binder = (ctx: BindContext) => Call;

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
    const why = unsupportedReason(graph, op);
    if (why) out.push(`'${op.name}' (${op.kind}): ${why}`);
  }
  return out;
}

function unsupportedReason(g: Graph, op: Op): string | null {
  const quantized = (id: number) => {
    const t = g.tensors[id]!;
    return (t.dtype === 'u8' || t.dtype === 'i8') && !!t.quant && t.quant.scale.length === 1;
  };
  const ios = [...op.inputs, ...op.outputs];
  switch (op.kind) {
    case 'conv2d':
    case 'fully_connected':
    case 'add':
    case 'global_avgpool':
    case 'softmax':
    case 'reshape':
      return ios.every(quantized) ? null : 'needs per-tensor quantized uint8/int8 inputs and outputs';
    case 'quantize': {
      if (!ios.every(quantized)) return 'needs per-tensor quantized uint8/int8 inputs and outputs';
      const a = g.tensors[op.inputs[0]!]!,
        b = g.tensors[op.outputs[0]!]!;
      // Within one type TFLite runs XNNPACK's convert, which takes ratios in [2^-8, 2^7] only.
      if (a.dtype === b.dtype && convertMultiplier(a.quant!.scale[0]!, b.quant!.scale[0]!) === null)
        return `requantization by ${a.quant!.scale[0]} / ${b.quant!.scale[0]}, outside the [2^-8, 2^7] ratios of XNNPACK's convert`;
      return null;
    }
    case 'resize_bilinear': {
      if (!ios.every(quantized)) return 'needs per-tensor quantized uint8/int8 inputs and outputs';
      const a = g.tensors[op.inputs[0]!]!.quant!,
        b = g.tensors[op.outputs[0]!]!.quant!;
      return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0]
        ? null
        : 'resize with different input and output quantization';
    }
    case 'argmax':
    case 'resize_argmax': {
      const x = g.tensors[op.inputs[0]!]!,
        y = g.tensors[op.outputs[0]!]!;
      if (!quantized(x.id)) return 'needs a per-tensor quantized uint8/int8 input';
      if (op.kind === 'argmax' && op.axis !== x.shape.length - 1)
        return `arg-max over axis ${op.axis} of ${describeShape(x.shape)}; only the last axis`;
      const c = x.shape[x.shape.length - 1]!;
      const ok =
        op.kind === 'argmax'
          ? y.dtype === 'i32' || y.dtype === 'i64' || (y.dtype === 'u8' && c <= 256)
          : y.dtype === 'i32' || (y.dtype === 'u8' && c <= 256);
      return ok ? null : `class ids of ${c} classes as ${y.dtype}`;
    }
    case 'avgpool': {
      if (!ios.every(quantized)) return 'needs per-tensor quantized uint8/int8 inputs and outputs';
      const a = g.tensors[op.inputs[0]!]!.quant!,
        b = g.tensors[op.outputs[0]!]!.quant!;
      return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0]
        ? null
        : 'average pool with different input and output quantization';
    }
    case 'dwconv2d':
      if (op.depthMultiplier !== 1 || op.kernel[0] !== 3 || op.kernel[1] !== 3)
        return 'only 3x3 depthwise with depth multiplier 1';
      return ios.every(quantized) ? null : 'needs per-tensor quantized uint8/int8 inputs and outputs';
    case 'concat': {
      if (!ios.every(quantized)) return 'needs per-tensor quantized uint8/int8 inputs and outputs';
      const y = g.tensors[op.outputs[0]!]!;
      const same = op.inputs.every((i) => {
        const t = g.tensors[i]!;
        return (
          t.dtype === y.dtype &&
          t.quant!.scale[0] === y.quant!.scale[0] &&
          t.quant!.zeroPoint[0] === y.quant!.zeroPoint[0]
        );
      });
      if (!same || op.act !== 'none')
        return 'only concatenation of inputs already on the output grid (no requantization, no activation)';
      return null;
    }
    default:
      return `not implemented on the integer path yet`;
  }
}

const bytesOf = (a: Int16Array | Int32Array | Float32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function intConst(model: LoadedModel, id: number, op: Op): Uint8Array | Int8Array {
  const c: ConstData | undefined = model.constants.get(id);
  if (!(c instanceof Uint8Array) && !(c instanceof Int8Array)) {
    throw new UnsupportedOpError(
      op,
      `weights '${model.graph.tensors[id]?.name ?? id}' are not uint8/int8 (the integer path needs the quantized file as imported)`,
    );
  }
  return c;
}

function biasConst(model: LoadedModel, id: number, op: Op): Int32Array | null {
  if (id < 0) return null;
  const c = model.constants.get(id);
  if (!(c instanceof Int32Array))
    throw new UnsupportedOpError(op, `bias '${model.graph.tensors[id]?.name ?? id}' is not int32`);
  return c;
}

const sgOf = (dtype: 'u8' | 'i8') => (dtype === 'i8' ? 1 : 0);

/** Quantization of an op's input i and output, same dtype required (TFLite's rule for these ops). */
function ioQuant(g: Graph, op: Op, i = 0) {
  const x = activationQuant(g.tensors[op.inputs[i]!]!, op);
  const y = activationQuant(g.tensors[op.outputs[0]!]!, op);
  if (x.dtype !== y.dtype)
    throw new UnsupportedOpError(op, `input is ${x.dtype} and output ${y.dtype}; only QUANTIZE changes the type`);
  return { x, y, sg: sgOf(y.dtype) };
}

const is1x1 = (op: Conv2DOp) =>
  op.kernel[0] === 1 &&
  op.kernel[1] === 1 &&
  op.stride[0] === 1 &&
  op.stride[1] === 1 &&
  op.pad.top + op.pad.bottom + op.pad.left + op.pad.right === 0;

const nhwc = (t: Tensor) => {
  if (t.shape.length !== 4 || t.shape[0] !== 1)
    throw new Error(`tensor '${t.name}' must be NHWC with batch 1, got ${describeShape(t.shape)}`);
  return { h: t.shape[1]!, w: t.shape[2]!, c: t.shape[3]! };
};

function lowerConv(model: LoadedModel, W: WeightsImage, op: Conv2DOp): Binder {
  const g = model.graph;
  const { x: xq, y: yq, sg } = ioQuant(g, op);
  const x = nhwc(g.tensors[op.inputs[0]!]!);
  const y = nhwc(g.tensors[op.outputs[0]!]!);
  const { scale, zw } = weightQuant(g, op, y.c);
  const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
  const w = intConst(model, op.weights, op);
  const bias = biasConst(model, op.bias, op);
  const [kh, kw] = op.kernel;
  const K = kh * kw * x.c;
  const pb = W.add(foldQ8Bias(bias, w, y.c, K, zw, xq.z));
  const ps = W.add(padQ8Scales(scale, y.c));
  const prq = W.add(q8OutputParams(yq.z, lo, hi));
  if (is1x1(op)) {
    const pw = W.add(bytesOf(packQ8Gemm(w, y.c, x.c, zw)));
    return (c) => {
      const xs = c.tensor(op.inputs[0]!),
        ys = c.tensor(op.outputs[0]!),
        wa = c.weight(pw),
        ba = c.weight(pb),
        sa = c.weight(ps),
        rq = c.weight(prq),
        k = c.k;
      return () => k.q8_gemm(xs, x.h * x.w, x.c, x.c, wa, y.c, ba, sa, ys, y.c, rq, 0, 0, sg);
    };
  }
  const pw = W.add(bytesOf(packQ8Conv(w, y.c, kh, kw, x.c, zw, 0, y.c, op.dilation[1])));
  return (c) => {
    const xs = c.tensor(op.inputs[0]!),
      ys = c.tensor(op.outputs[0]!),
      wa = c.weight(pw),
      ba = c.weight(pb),
      sa = c.weight(ps),
      rq = c.weight(prq),
      k = c.k;
    return () =>
      k.q8_conv2d(
        xs,
        x.h,
        x.w,
        x.c,
        ys,
        y.h,
        y.w,
        y.c,
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
        sa,
        rq,
        xq.z,
        sg,
      );
  };
}

function lowerDepthwise(model: LoadedModel, W: WeightsImage, op: DepthwiseConv2DOp): Binder {
  const g = model.graph;
  if (op.depthMultiplier !== 1 || op.kernel[0] !== 3 || op.kernel[1] !== 3)
    throw new UnsupportedOpError(op, 'the integer path runs 3x3 depthwise with depth multiplier 1 only');
  const { x: xq, y: yq, sg } = ioQuant(g, op);
  const x = nhwc(g.tensors[op.inputs[0]!]!);
  const y = nhwc(g.tensors[op.outputs[0]!]!);
  const { scale, zw } = weightQuant(g, op, y.c);
  const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
  const w = intConst(model, op.weights, op);
  const pw = W.add(bytesOf(packQ8Depthwise(w, x.c, zw)));
  const pb = W.add(foldQ8DepthwiseBias(biasConst(model, op.bias, op), w, x.c, zw, xq.z));
  const ps = W.add(padQ8DepthwiseScales(scale, x.c));
  const prq = W.add(q8OutputParams(yq.z, lo, hi));
  const ws = q8DepthwisePairBytes(x.c);
  return (c) => {
    const xs = c.tensor(op.inputs[0]!),
      ys = c.tensor(op.outputs[0]!),
      wa = c.weight(pw),
      ba = c.weight(pb),
      sa = c.weight(ps),
      rq = c.weight(prq),
      k = c.k;
    return () =>
      k.q8_dwconv3x3(
        xs,
        x.h,
        x.w,
        x.c,
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
        ws,
        ba,
        sa,
        rq,
        xq.z,
        sg,
      );
  };
}

function lowerOp(model: LoadedModel, W: WeightsImage, op: Op): Binder {
  const g = model.graph;
  const why = unsupportedReason(g, op);
  if (why) throw new UnsupportedOpError(op, `integer path: ${why} (run the dequantized float path instead: --float)`);
  const inT =
    (i = 0) =>
    (c: BindContext) =>
      c.tensor(op.inputs[i]!);
  const outT = (c: BindContext) => c.tensor(op.outputs[0]!);
  const xt = g.tensors[op.inputs[0]!]!;
  const yt = g.tensors[op.outputs[0]!]!;
  switch (op.kind) {
    case 'conv2d':
      return lowerConv(model, W, op);
    case 'dwconv2d':
      return lowerDepthwise(model, W, op);
    case 'fully_connected': {
      const { x: xq, y: yq, sg } = ioQuant(g, op);
      const [n, kk] = g.tensors[op.weights]!.shape as [number, number];
      if (tensorElements(xt) !== kk)
        throw new UnsupportedOpError(op, `input has ${tensorElements(xt)} values, weights expect ${kk}`);
      const { scale, zw } = weightQuant(g, op, n);
      const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
      const w = intConst(model, op.weights, op);
      const pw = W.add(bytesOf(packQ8Gemm(w, n, kk, zw)));
      const pb = W.add(foldQ8Bias(biasConst(model, op.bias, op), w, n, kk, zw, xq.z));
      const ps = W.add(padQ8Scales(scale, n));
      const prq = W.add(q8OutputParams(yq.z, lo, hi));
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          wa = c.weight(pw),
          ba = c.weight(pb),
          sa = c.weight(ps),
          rq = c.weight(prq),
          k = c.k;
        return () => k.q8_gemm(a, 1, kk, kk, wa, n, ba, sa, o, n, rq, 0, 0, sg);
      };
    }
    case 'add': {
      const { x: aq, y: yq, sg } = ioQuant(g, op, 0);
      const bq = ioQuant(g, op, 1).x;
      const { ma, mb, shift } = addParams(aq.s, bq.s, yq.s);
      const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
      const n = tensorElements(yt);
      return (c) => {
        const a = inT(0)(c),
          b = inT(1)(c),
          o = outT(c),
          k = c.k;
        return () => k.q8_add(a, b, o, n, aq.z, bq.z, ma, mb, shift, yq.z, lo, hi, sg);
      };
    }
    case 'global_avgpool': {
      const { x: xq, y: yq, sg } = ioQuant(g, op);
      const x = nhwc(xt);
      const hw = x.h * x.w;
      const [lo, hi] = dtypeRange(yq.dtype);
      if (xq.s === yq.s && xq.z === yq.z) {
        return (c) => {
          const a = inT()(c),
            o = outT(c),
            k = c.k;
          return () => k.q8_global_avgpool(a, hw, x.c, o, lo, hi, sg);
        };
      }
      const s = meanScale(xq.s, yq.s, hw);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => k.q8_mean(a, hw, x.c, o, xq.z, s, yq.z, lo, hi, sg);
      };
    }
    case 'avgpool': {
      const { y: yq, sg } = ioQuant(g, op);
      const x = nhwc(xt),
        y = nhwc(yt);
      const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.q8_avgpool(
            a,
            x.h,
            x.w,
            x.c,
            o,
            y.h,
            y.w,
            op.kernel[0],
            op.kernel[1],
            op.stride[0],
            op.stride[1],
            op.pad.top,
            op.pad.left,
            lo,
            hi,
            sg,
          );
      };
    }
    case 'softmax': {
      const { x: xq, y: yq, sg } = ioQuant(g, op);
      const n = yt.shape[yt.shape.length - 1]!;
      const rows = tensorElements(yt) / n;
      const kf = Math.fround(-Math.fround(xq.s) * Math.fround(op.beta));
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => {
          for (let r = 0; r < rows; r++) k.q8_softmax(a + r * n, n, o + r * n, kf, yq.s, yq.z, sg);
        };
      };
    }
    case 'quantize': {
      const xq = activationQuant(xt, op);
      const yq = activationQuant(yt, op);
      const n = tensorElements(yt);
      if (xq.dtype === yq.dtype) {
        // XNNPACK's convert (refQConvert).
        const m = convertMultiplier(xq.s, yq.s)!;
        return (c) => {
          const a = inT()(c),
            o = outT(c),
            k = c.k;
          return () => k.q8_convert(a, n, o, xq.z, m, yq.z, sgOf(yq.dtype));
        };
      }
      const m = Math.fround(Math.fround(xq.s) / Math.fround(yq.s));
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => k.q8_requantize(a, n, o, xq.z, m, yq.z, sgOf(xq.dtype), sgOf(yq.dtype));
      };
    }
    case 'resize_bilinear': {
      const { sg } = ioQuant(g, op);
      const x = nhwc(xt),
        y = nhwc(yt);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.q8_resize_bilinear(a, x.h, x.w, x.c, o, y.h, y.w, op.alignCorners ? 1 : 0, op.halfPixelCenters ? 1 : 0, sg);
      };
    }
    case 'resize_argmax': {
      const sg = sgOf(activationQuant(xt, op).dtype);
      const x = nhwc(xt);
      const outI32 = classIdOutput(op, yt.dtype, x.c);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () =>
          k.q8_resize_argmax(
            a,
            x.h,
            x.w,
            x.c,
            o,
            op.size[0],
            op.size[1],
            op.alignCorners ? 1 : 0,
            op.halfPixelCenters ? 1 : 0,
            outI32,
            sg,
          );
      };
    }
    case 'argmax': {
      const sg = sgOf(activationQuant(xt, op).dtype);
      const C = xt.shape[xt.shape.length - 1]!;
      const P = tensorElements(xt) / C;
      const outBytes = DTYPE_BYTES[yt.dtype];
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        return () => k.q8_argmax(a, P, C, o, outBytes, sg);
      };
    }
    case 'reshape': {
      const bytes = tensorElements(yt);
      return (c) => {
        const a = inT()(c),
          o = outT(c),
          k = c.k;
        if (a === o) return () => {}; // aliased by the plan: same bytes, new shape
        return () => k.copy_strided(a, o, 1, bytes, bytes, bytes);
      };
    }
    case 'concat': {
      const rank = yt.shape.length;
      const axis = op.axis < 0 ? op.axis + rank : op.axis;
      const outer = yt.shape.slice(0, axis).reduce((p, d) => p * d, 1);
      const outRow = yt.shape.slice(axis).reduce((p, d) => p * d, 1);
      const parts = op.inputs.map((id) => g.tensors[id]!.shape.slice(axis).reduce((p, d) => p * d, 1));
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
    default:
      throw new UnsupportedOpError(op, 'not implemented on the integer path');
  }
}

/** Descriptor word indices (assembly/q8_block.ts). */
const D = {
  SIGNED: 0,
  EXP_KIND: 1,
  HX: 2,
  WX: 3,
  CIN: 4,
  HE: 5,
  WE: 6,
  CEXP: 7,
  HD: 8,
  WD: 9,
  COUT: 10,
  EKH: 11,
  EKW: 12,
  ESH: 13,
  ESW: 14,
  EDH: 15,
  EDW: 16,
  EPT: 17,
  EPL: 18,
  DSH: 19,
  DSW: 20,
  DDH: 21,
  DDW: 22,
  DPT: 23,
  DPL: 24,
  ZX: 25,
  ZE: 26,
  WEXP: 27,
  BEXP: 28,
  SEXP: 29,
  RQEXP: 30,
  WDW: 31,
  WSDW: 32,
  BDW: 33,
  SDW: 34,
  RQDW: 35,
  WPROJ: 36,
  PSPROJ: 37,
  BPROJ: 38,
  SPROJ: 39,
  RQPROJ: 40,
  UNIT: 41,
  UEXP: 42,
  UPROJ: 43,
  NTILES: 44,
  TILES: 48,
  TILE_WORDS: 12,
} as const;

/** What lowering decided for one fused block (tests and reports read it). */
export interface Q8BlockLowering {
  step: number;
  name: string;
  geometry: BlockGeometry;
  tiling: BlockTiling;
}

function lowerBlock(
  model: LoadedModel,
  plan: Plan,
  W: WeightsImage,
  step: BlockStep,
  stepIndex: number,
  blocks: Q8BlockLowering[],
  highWater: number,
): Binder {
  const g = model.graph;
  const expand = g.ops[step.expand] as Conv2DOp;
  const dw = g.ops[step.depthwise] as DepthwiseConv2DOp;
  const project = g.ops[step.project] as Conv2DOp;
  const add = step.add >= 0 ? g.ops[step.add]! : undefined;
  if (
    expand.kind !== 'conv2d' ||
    dw.kind !== 'dwconv2d' ||
    project.kind !== 'conv2d' ||
    !is1x1(project) ||
    dw.kernel[0] !== 3 ||
    dw.kernel[1] !== 3 ||
    dw.depthMultiplier !== 1
  ) {
    throw new Error(
      `plan step is not an inverted residual block the integer path fuses: '${expand.name}' → '${dw.name}' → '${project.name}'`,
    );
  }
  for (const op of [expand, dw, project, ...(add ? [add] : [])]) {
    const why = unsupportedReason(g, op);
    if (why) throw new UnsupportedOpError(op, `integer path: ${why}`);
  }
  const eq = ioQuant(g, expand);
  const dq = ioQuant(g, dw);
  const pq = ioQuant(g, project);
  const sg = eq.sg;
  const xT = g.tensors[expand.inputs[0]!]!;
  const x = nhwc(xT);
  const e = nhwc(g.tensors[expand.outputs[0]!]!);
  const d = nhwc(g.tensors[dw.outputs[0]!]!);
  const yId = add ? add.outputs[0]! : project.outputs[0]!;
  const y = nhwc(g.tensors[yId]!);
  const Cexp = e.c;
  const conv = !is1x1(expand);
  const [ekh, ekw] = expand.kernel;

  const eBuf = plan.buffers[step.expandBuffer]!;
  const dBuf = plan.buffers[step.depthwiseBuffer]!;
  const geometry: BlockGeometry = {
    He: e.h,
    We: e.w,
    Cexp,
    Hd: d.h,
    Wd: d.w,
    Cout: y.c,
    sh: dw.stride[0],
    sw: dw.stride[1],
    dh: dw.dilation[0],
    dw: dw.dilation[1],
    pt: dw.pad.top,
    pl: dw.pad.left,
    expandK: conv ? ekh * ekw * x.c : x.c,
    eBytes: eBuf.bytes,
    dBytes: dBuf.bytes,
    preferred: { eBytes: Math.max(0, highWater - eBuf.offset), dBytes: Math.max(0, highWater - dBuf.offset) },
  };
  const tiling = planBlockTiles(geometry);
  blocks.push({ step: stepIndex, name: `${expand.name}..${project.name}`, geometry, tiling });
  const u = tiling.unit;

  // Expansion: 8-channel panels (unit 8), or one padded panel per channel (unit 1).
  const wE = intConst(model, expand.weights, expand);
  const qE = weightQuant(g, expand, Cexp);
  const [loE, hiE] = activationRange(expand.act, eq.y.s, eq.y.z, eq.y.dtype);
  const KE = ekh * ekw * x.c;
  const packE = (n0: number, nc: number) =>
    conv
      ? packQ8Conv(wE, Cexp, ekh, ekw, x.c, qE.zw, n0, nc, expand.dilation[1])
      : packQ8Gemm(wE, Cexp, x.c, qE.zw, n0, nc);
  const biasE = biasConst(model, expand.bias, expand);
  let wExp: number, bExp: number, sExp: number, uExp: number;
  if (u === 8) {
    const packed = packE(0, Cexp);
    uExp = packed.byteLength / Math.ceil(Cexp / Q8_NR);
    wExp = W.add(bytesOf(packed));
    bExp = W.add(foldQ8Bias(biasE, wE, Cexp, KE, qE.zw, eq.x.z));
    sExp = W.add(padQ8Scales(qE.scale, Cexp));
  } else {
    const units = Array.from({ length: Cexp }, (_, j) => packE(j, 1));
    uExp = units[0]!.byteLength;
    wExp = W.add(bytesOf(concatI16(units)));
    bExp = W.add(
      concatI32(Array.from({ length: Cexp }, (_, j) => foldQ8Bias(biasE, wE, Cexp, KE, qE.zw, eq.x.z, j, 1))),
    );
    sExp = W.add(concatF32(Array.from({ length: Cexp }, (_, j) => padQ8Scales(qE.scale, Cexp, j, 1))));
  }
  const rqExp = W.add(q8OutputParams(eq.y.z, loE, hiE));

  // Depthwise: tap-major rows over all inner channels (any group is an offset).
  const wD = intConst(model, dw.weights, dw);
  const qD = weightQuant(g, dw, Cexp);
  const [loD, hiD] = activationRange(dw.act, dq.y.s, dq.y.z, dq.y.dtype);
  const wDw = W.add(bytesOf(packQ8Depthwise(wD, Cexp, qD.zw)));
  const bDw = W.add(foldQ8DepthwiseBias(biasConst(model, dw.bias, dw), wD, Cexp, qD.zw, dq.x.z));
  const sDw = W.add(padQ8DepthwiseScales(qD.scale, Cexp));
  const rqDw = W.add(q8OutputParams(dq.y.z, loD, hiD));

  // Projection: one matrix over all inner channels (unit 8: k-pair slices of it), or one
  // K = 1 matrix per inner channel (unit 1).
  const wP = intConst(model, project.weights, project);
  const qP = weightQuant(g, project, y.c);
  let wProj: number, psProj: number, uProj: number;
  if (u === 8) {
    wProj = W.add(bytesOf(packQ8Gemm(wP, y.c, Cexp, qP.zw)));
    psProj = Math.ceil(Cexp / 2) * 32;
    uProj = (Q8_NR / 2) * 32;
  } else {
    const units = Array.from({ length: Cexp }, (_, j) => packQ8Gemm(wP, y.c, Cexp, qP.zw, 0, y.c, j, 1));
    uProj = units[0]!.byteLength;
    psProj = 32;
    wProj = W.add(bytesOf(concatI16(units)));
  }
  const bProj = W.add(foldQ8Bias(biasConst(model, project.bias, project), wP, y.c, Cexp, qP.zw, pq.x.z));
  const sProj = W.add(padQ8Scales(qP.scale, y.c));
  const [pMin, pMax] = dtypeRange(pq.y.dtype);
  let residual;
  if (add) {
    const yq = activationQuant(g.tensors[yId]!, add);
    const xq = activationQuant(xT, add);
    const { ma, mb, shift } = addParams(pq.y.s, xq.s, yq.s);
    const [loY, hiY] = activationRange(add.kind === 'add' ? add.act : 'none', yq.s, yq.z, yq.dtype);
    residual = { zRes: xq.z, mP: ma, mRes: mb, shift, zY: yq.z, loY, hiY };
  }
  const rqProj = W.add(q8OutputParams(pq.y.z, pMin, pMax, residual));

  const desc = new Int32Array(D.TILES + tiling.tiles.length * D.TILE_WORDS);
  const set = (i: number, v: number) => (desc[i] = v);
  set(D.SIGNED, sg);
  set(D.EXP_KIND, conv ? 1 : 0);
  set(D.HX, x.h);
  set(D.WX, x.w);
  set(D.CIN, x.c);
  set(D.HE, e.h);
  set(D.WE, e.w);
  set(D.CEXP, Cexp);
  set(D.HD, d.h);
  set(D.WD, d.w);
  set(D.COUT, y.c);
  set(D.EKH, ekh);
  set(D.EKW, ekw);
  set(D.ESH, expand.stride[0]);
  set(D.ESW, expand.stride[1]);
  set(D.EDH, expand.dilation[0]);
  set(D.EDW, expand.dilation[1]);
  set(D.EPT, expand.pad.top);
  set(D.EPL, expand.pad.left);
  set(D.DSH, dw.stride[0]);
  set(D.DSW, dw.stride[1]);
  set(D.DDH, dw.dilation[0]);
  set(D.DDW, dw.dilation[1]);
  set(D.DPT, dw.pad.top);
  set(D.DPL, dw.pad.left);
  set(D.ZX, eq.x.z);
  set(D.ZE, dq.x.z);
  set(D.UNIT, u);
  set(D.UEXP, uExp);
  set(D.UPROJ, uProj);
  set(D.PSPROJ, psProj);
  set(D.WSDW, q8DepthwisePairBytes(Cexp));
  set(D.NTILES, tiling.tiles.length);
  tiling.tiles.forEach((t, i) => {
    desc.set([t.r0, t.r1, t.q0, t.q1, t.n0, t.n1, t.G, t.acc, t.accOffset], D.TILES + i * D.TILE_WORDS);
  });
  // Weight offsets are filled in relative to the weights base; the kernel adds it.
  const rel: [number, number][] = [
    [D.WEXP, wExp],
    [D.BEXP, bExp],
    [D.SEXP, sExp],
    [D.RQEXP, rqExp],
    [D.WDW, wDw],
    [D.BDW, bDw],
    [D.SDW, sDw],
    [D.RQDW, rqDw],
    [D.WPROJ, wProj],
    [D.BPROJ, bProj],
    [D.SPROJ, sProj],
    [D.RQPROJ, rqProj],
  ];
  for (const [i, off] of rel) set(i, off);
  const pDesc = W.add(desc);
  const xBytes = x.h * x.w * x.c;
  const yBytes = y.h * y.w * y.c;
  return (c) => {
    const k = c.k;
    const wb = c.weight(0);
    const da = c.weight(pDesc);
    const xa = c.tensor(expand.inputs[0]!),
      ya = c.tensor(yId),
      ea = c.buffer(step.expandBuffer),
      dd = c.buffer(step.depthwiseBuffer);
    const wBytes = W.bytes;
    return () => k.q8_block(da, desc.byteLength, wb, wBytes, xa, xBytes, ya, yBytes, ea, eBuf.bytes, dd, dBuf.bytes);
  };
}

function concatI16(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function concatI32(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function concatF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Bytes above the float high-water a block may use for the int32 sums of its last pixels. */
export const HIGH_WATER_SLACK_BYTES = 512;

export interface Q8LoweredProgram extends LoweredProgram {
  blocks: Q8BlockLowering[];
}

/** Lowers every step of `plan` for the integer graph of `model` (quantized tensors as imported). */
export function lowerPlanQ8(model: LoadedModel, plan: Plan, W = new WeightsImage()): Q8LoweredProgram {
  const blocks: Q8BlockLowering[] = [];
  // Blocks keep below the float schedule's high-water (plus a little for the partial sums of
  // the last pixels) when they can: the integer path then touches a quarter of the float path's memory.
  const highWater = floatHighWater(model.graph, plan) + HIGH_WATER_SLACK_BYTES;
  const binders: Binder[] = plan.steps.map((step: PlanStep, i) =>
    lowerStep(model, step, () =>
      step.kind === 'block'
        ? lowerBlock(model, plan, W, step, i, blocks, highWater)
        : lowerOp(model, W, model.graph.ops[step.op]!),
    ),
  );
  return { weights: W, blocks, bind: (ctx) => binders.map((b) => b(ctx)) };
}
