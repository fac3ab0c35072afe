/**
 * TFLite → lowwater graph IR. Builds the graph with GraphBuilder in the file's
 * operator order, keeping dtypes and quantization exactly as the file has
 * them (the integer path needs every scale and zero point), constants as
 * typed arrays. Weights stay in their stored dtype here; dequantize.ts makes
 * the float path.
 */
import { GraphBuilder, validateGraph, type OpSpec, type OutputSpec } from '../../../planner/builder.js';
import {
  DTYPE_BYTES,
  describeShape,
  type Activation,
  type DType,
  type Padding,
  type Quantization,
} from '../../../planner/ir.js';
import { samePadding, ShapeError, VALID } from '../../../planner/shapes.js';
import { LazyConstants, type ConstData, type InputNormalization, type LoadedModel } from '../../model.js';
import { MemorySource, type ByteSource } from '../byte_source.js';
import { TfliteFormatError, TfliteUnsupportedError } from './errors.js';
import { readableName } from '../../errors.js';
import { readTfliteFile, type TfliteFile, type TfliteOperator, type TfliteTensor } from './file.js';
import type { Table } from './flatbuf.js';
import { findDetectionPostProcess, gridOf, type PostProcessSite } from './detection_postprocess.js';
import { dequantizeTensor } from '../dequantize.js';
import {
  ACTIVATION_NAMES,
  ActivationFunctionType,
  builtinName,
  describeBuiltin,
  F,
  Op,
  OPTIONS,
  Padding as TflPadding,
  TensorType,
  tensorTypeName,
} from './schema.js';

/** Imports refuse graphs beyond these sizes (MobileNetV2-family models have < 200 ops). */
export const MAX_OPERATORS = 16384;
const MAX_RANK = 8;
const MAX_ELEMENTS = 2 ** 31 - 1;

const DTYPES: Partial<Record<number, DType>> = {
  [TensorType.FLOAT32]: 'f32',
  [TensorType.INT32]: 'i32',
  [TensorType.UINT8]: 'u8',
  [TensorType.INT64]: 'i64',
  [TensorType.INT8]: 'i8',
};

/** Representable range of each quantized dtype's zero point. */
const ZERO_POINT_RANGE: Partial<Record<DType, [number, number]>> = { u8: [0, 255], i8: [-128, 127], i32: [0, 0] };

/** The error an operator's problem becomes: names the operator index, its builtin and the op table offset. */
class OpContext {
  constructor(
    readonly op: TfliteOperator,
    readonly code: number,
    readonly source: string,
  ) {}
  get label(): string {
    return `operator ${this.op.index} (${describeBuiltin(this.code)})`;
  }
  format(message: string, offset = this.op.offset): never {
    throw new TfliteFormatError(`${this.label}: ${message}`, offset, this.source);
  }
  unsupported(message: string): never {
    throw new TfliteUnsupportedError(`${this.label}: ${message}`, this.source);
  }
}

/** A typed array over constant bytes: a view when aligned to the element size, else an aligned copy. */
function typedData(bytes: Uint8Array, dtype: DType, n: number): ConstData {
  const size = DTYPE_BYTES[dtype];
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const [buf, off] = [aligned.buffer, aligned.byteOffset];
  switch (dtype) {
    case 'f32':
      return new Float32Array(buf, off, n);
    case 'i32':
      return new Int32Array(buf, off, n);
    case 'u8':
      return new Uint8Array(buf, off, n);
    case 'i8':
      return new Int8Array(buf, off, n);
    case 'i64':
      return new BigInt64Array(buf, off, n);
  }
}

class Importer {
  private readonly g: GraphBuilder;
  /** TFLite tensor index → IR tensor id, for activations already written and constants already added. */
  private readonly ids = new Map<number, number>();
  /** How to read each weight or bias constant, by IR tensor id: after planning, not during the import. */
  readonly constantReads = new Map<number, () => ConstData>();

  constructor(
    private readonly f: TfliteFile,
    private readonly src: ByteSource,
    private readonly source: string,
    name: string,
  ) {
    this.g = new GraphBuilder(name);
  }

  private format(message: string, offset: number): never {
    throw new TfliteFormatError(message, offset, this.source);
  }

  private tensor(i: number, what: string, ctx?: OpContext): TfliteTensor {
    const t = Number.isInteger(i) && i >= 0 ? this.f.tensors[i] : undefined;
    if (!t) {
      const msg = `${what}: tensor index ${i} is out of range (the subgraph has ${this.f.tensors.length} tensors)`;
      if (ctx) ctx.format(msg);
      this.format(msg, this.f.subgraphOffset);
    }
    return t;
  }

  private dtype(t: TfliteTensor): DType {
    const d = DTYPES[t.type];
    if (!d)
      throw new TfliteUnsupportedError(
        `tensor ${t.index} '${readableName(t.name)}' has type ${tensorTypeName(t.type)}, which lowwater does not support (FLOAT32, INT32, UINT8, INT64, INT8)`,
        this.source,
      );
    return d;
  }

  private checkShape(t: TfliteTensor): number[] {
    if (t.shape.length > MAX_RANK)
      throw new TfliteUnsupportedError(
        `tensor ${t.index} '${readableName(t.name)}' has rank ${t.shape.length} (at most ${MAX_RANK} supported)`,
        this.source,
      );
    let n = 1;
    for (const d of t.shape) {
      if (!(d >= 1))
        this.format(
          `tensor ${t.index} '${readableName(t.name)}' has shape ${describeShape(t.shape)}: every dimension must be ≥ 1`,
          t.offset,
        );
      n *= d;
    }
    if (n > MAX_ELEMENTS)
      throw new TfliteUnsupportedError(
        `tensor ${t.index} '${readableName(t.name)}' has ${n} elements (shape ${describeShape(t.shape)}), more than lowwater supports`,
        this.source,
      );
    return t.shape.slice();
  }

  /** The tensor's quantization as the IR keeps it, checked against its dtype and shape. */
  private quant(t: TfliteTensor, dtype: DType, activation: boolean): Quantization | undefined {
    const q = t.quant;
    if (!q) {
      if (activation && (dtype === 'u8' || dtype === 'i8'))
        this.format(
          `activation tensor ${t.index} '${readableName(t.name)}' is ${tensorTypeName(t.type)} but has no quantization parameters`,
          t.offset,
        );
      return undefined;
    }
    if (q.hasDetails)
      throw new TfliteUnsupportedError(
        `tensor ${t.index} '${readableName(t.name)}' uses custom quantization (QuantizationParameters.details), which lowwater does not support`,
        this.source,
      );
    if (q.scale.length !== q.zeroPoint.length)
      this.format(
        `tensor ${t.index} '${readableName(t.name)}': ${q.scale.length} scales but ${q.zeroPoint.length} zero points`,
        q.offset,
      );
    if (q.scale.length === 0) return undefined;
    if (dtype === 'f32') return undefined; // float tensors carry min/max or stray scales; they are not quantized.
    for (const s of q.scale)
      if (!(Number.isFinite(s) && s > 0))
        this.format(
          `tensor ${t.index} '${readableName(t.name)}': quantization scale ${s} is not a positive finite number`,
          q.offset,
        );
    const range = ZERO_POINT_RANGE[dtype];
    for (const z of q.zeroPoint) {
      if (!Number.isInteger(z) || (range && (z < range[0] || z > range[1])))
        this.format(
          `tensor ${t.index} '${readableName(t.name)}': zero point ${z} is outside the ${tensorTypeName(t.type)} range`,
          q.offset,
        );
    }
    let axis = 0;
    if (q.scale.length > 1) {
      if (activation)
        throw new TfliteUnsupportedError(
          `activation tensor ${t.index} '${readableName(t.name)}' is quantized per channel, which lowwater does not support`,
          this.source,
        );
      if (!(q.axis >= 0 && q.axis < t.shape.length) || t.shape[q.axis] !== q.scale.length) {
        this.format(
          `tensor ${t.index} '${readableName(t.name)}': ${q.scale.length} per-channel scales along quantized_dimension ${q.axis} do not fit shape ${describeShape(t.shape)}`,
          q.offset,
        );
      }
      axis = q.axis;
    }
    return { scale: q.scale.slice(), zeroPoint: q.zeroPoint.slice(), axis };
  }

  private isConstant(t: TfliteTensor): boolean {
    return t.buffer !== 0 && this.f.buffer(t.buffer, `tensor ${t.index} '${readableName(t.name)}'`).length > 0;
  }

  /** Where the data of a constant tensor lies in the file, checked against its shape and type (nothing is read). */
  private dataRef(t: TfliteTensor, dtype: DType): { start: number; length: number; n: number } {
    const ref = this.f.buffer(t.buffer, `tensor ${t.index} '${readableName(t.name)}'`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const size = DTYPE_BYTES[dtype];
    if (ref.length !== n * size)
      this.format(
        `constant tensor ${t.index} '${readableName(t.name)}' ${describeShape(t.shape)} ${tensorTypeName(t.type)} needs ${n * size} bytes but its buffer ${t.buffer} holds ${ref.length}`,
        t.offset,
      );
    return { start: ref.start, length: ref.length, n };
  }

  /** The data of a constant tensor, read now (small parameter tensors: shapes, axes, sizes). */
  private data(t: TfliteTensor, dtype: DType): ConstData {
    const ref = this.dataRef(t, dtype);
    return typedData(this.src.read(ref.start, ref.length), dtype, ref.n);
  }

  /** IR id of an activation input: it must be a graph input or written by an earlier operator. */
  activation(i: number, ctx: OpContext, what: string): number {
    const t = this.tensor(i, what, ctx);
    const id = this.ids.get(i);
    if (id !== undefined && !this.g.tensor(id).constant) return id;
    if (this.isConstant(t))
      ctx.unsupported(
        `${what} is the constant tensor ${i} '${readableName(t.name)}'; lowwater takes constants only as weights and biases`,
      );
    return ctx.format(`${what} reads tensor ${i} '${readableName(t.name)}' before any operator writes it`);
  }

  /** IR id of a weight/bias constant (added once, shared by every op that uses it). */
  constant(i: number, ctx: OpContext, what: string, allowed: DType[]): number {
    const t = this.tensor(i, what, ctx);
    const known = this.ids.get(i);
    if (known !== undefined) {
      if (!this.g.tensor(known).constant)
        ctx.unsupported(
          `${what} is the activation tensor ${i} '${readableName(t.name)}'; lowwater needs it to be a constant`,
        );
      return known;
    }
    if (!this.isConstant(t))
      ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') has no constant data; lowwater needs constant weights`,
      );
    if (t.sparse)
      ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') is stored sparse (Tensor.sparsity), which lowwater does not support`,
      );
    const dtype = this.dtype(t);
    if (!allowed.includes(dtype))
      ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') is ${tensorTypeName(t.type)}; expected ${allowed.join(' or ')}`,
      );
    const shape = this.checkShape(t);
    const ref = this.dataRef(t, dtype);
    const quant = this.quant(t, dtype, false);
    if (!quant && (dtype === 'u8' || dtype === 'i8'))
      ctx.format(
        `${what} (tensor ${i} '${readableName(t.name)}') is ${tensorTypeName(t.type)} without quantization parameters`,
        t.offset,
      );
    const id = this.g.constant(t.name, shape, dtype, quant);
    const src = this.src;
    this.constantReads.set(id, () => typedData(src.read(ref.start, ref.length), dtype, ref.n));
    this.ids.set(i, id);
    return id;
  }

  /** Float values of a constant tensor (float32, or uint8/int8 dequantized), not added to the graph. */
  constantValues(i: number, ctx: OpContext, what: string): Float32Array {
    const t = this.tensor(i, what, ctx);
    if (!this.isConstant(t))
      ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') has no constant data; lowwater needs it constant`,
      );
    const dtype = this.dtype(t);
    const shape = this.checkShape(t);
    const data = this.data(t, dtype);
    if (data instanceof Float32Array) return data;
    const quant = this.quant(t, dtype, false);
    if ((dtype !== 'u8' && dtype !== 'i8') || !quant)
      return ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') is ${tensorTypeName(t.type)}; expected FLOAT32 or quantized UINT8/INT8`,
      );
    return dequantizeTensor(shape, data as Uint8Array | Int8Array, quant);
  }

  /** Integer values of a small parameter tensor (shape, axes, size), which must be constant INT32/INT64. */
  params(i: number, ctx: OpContext, what: string): number[] {
    const t = this.tensor(i, what, ctx);
    if (!this.isConstant(t))
      ctx.unsupported(
        `${what} (tensor ${i} '${readableName(t.name)}') is computed at run time; lowwater needs it constant`,
      );
    const dtype = this.dtype(t);
    if (dtype !== 'i32' && dtype !== 'i64')
      ctx.format(
        `${what} (tensor ${i} '${readableName(t.name)}') is ${tensorTypeName(t.type)}, expected INT32 or INT64`,
        t.offset,
      );
    this.checkShape(t);
    const d = this.data(t, dtype);
    return Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
  }

  input(i: number): void {
    const t = this.tensor(i, `subgraph input`);
    if (this.ids.has(i))
      this.format(`tensor ${i} '${readableName(t.name)}' is listed twice as a subgraph input`, t.offset);
    if (this.isConstant(t)) this.format(`subgraph input ${i} '${readableName(t.name)}' has constant data`, t.offset);
    const dtype = this.dtype(t);
    this.ids.set(i, this.g.input(t.name, this.checkShape(t), dtype, this.quant(t, dtype, true)));
  }

  /** Name, dtype, declared shape and quantization of TFLite tensor `out` as an op output. */
  outputSpec(out: number, ctx: OpContext): OutputSpec {
    const t = this.tensor(out, 'output', ctx);
    if (this.ids.has(out))
      ctx.format(
        `writes tensor ${out} '${readableName(t.name)}', which is already a graph input or written by an earlier operator`,
      );
    if (this.isConstant(t)) ctx.format(`writes tensor ${out} '${readableName(t.name)}', which has constant data`);
    const dtype = this.dtype(t);
    const spec: OutputSpec = { name: t.name, dtype, shape: this.checkShape(t) };
    const q = this.quant(t, dtype, true);
    if (q) spec.quant = q;
    return spec;
  }

  /** Adds `spec` writing TFLite tensor `out` (its declared shape is checked by the builder). */
  emit(spec: OpSpec, out: number, ctx: OpContext): number {
    const id = this.add(spec, this.outputSpec(out, ctx), ctx);
    this.ids.set(out, id);
    return id;
  }

  add(spec: OpSpec, out: OutputSpec, ctx: OpContext): number {
    try {
      return this.g.op({ ...spec, origin: { index: ctx.op.index, type: builtinName(ctx.code) } }, out);
    } catch (e) {
      if (e instanceof ShapeError) ctx.format(e.message);
      throw e;
    }
  }

  /** An INT32 bias is in units of s_in·s_w (TFLite): the input and the weights must be quantized. */
  checkBias(bias: number, x: number, w: number, ctx: OpContext): void {
    if (bias < 0 || this.g.tensor(bias).dtype !== 'i32') return;
    if (!this.g.tensor(x).quant || !this.g.tensor(w).quant)
      ctx.format('has an INT32 bias but its input or weights are not quantized');
  }

  tensorShape(id: number): number[] {
    return this.g.tensor(id).shape;
  }

  output(i: number): void {
    const t = this.tensor(i, 'subgraph output');
    const id = this.ids.get(i);
    if (id === undefined || this.g.tensor(id).constant)
      this.format(
        `subgraph output ${i} '${readableName(t.name)}' is never written by an operator`,
        this.f.subgraphOffset,
      );
    this.g.output(id);
  }

  finish(): ReturnType<GraphBuilder['finish']> {
    return this.g.finish();
  }
}

function activation(code: number, ctx: OpContext): Activation {
  switch (code) {
    case ActivationFunctionType.NONE:
      return 'none';
    case ActivationFunctionType.RELU:
      return 'relu';
    case ActivationFunctionType.RELU6:
      return 'relu6';
    default:
      return ctx.unsupported(`fused activation ${ACTIVATION_NAMES[code] ?? code} is not supported (NONE, RELU, RELU6)`);
  }
}

/** The op's builtin options table, checked to be of the expected union member. */
function options(ctx: OpContext, tag: number, name: string, required: boolean): Table | null {
  const { optionsType, options: table } = ctx.op;
  if (optionsType === 0 || !table) {
    if (required) ctx.format(`has no ${name}`);
    return null;
  }
  if (optionsType !== tag) ctx.format(`builtin_options has union type ${optionsType}, expected ${name} (${tag})`);
  return table;
}

function padding(
  code: number,
  ctx: OpContext,
  inH: number,
  inW: number,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
): Padding {
  if (code === TflPadding.SAME) return samePadding(inH, inW, kernel, stride, dilation);
  if (code === TflPadding.VALID) return { ...VALID };
  return ctx.format(`padding ${code} is neither SAME (0) nor VALID (1)`);
}

function positive(v: number, what: string, ctx: OpContext): number {
  if (!(Number.isInteger(v) && v >= 1)) ctx.format(`${what} is ${v}; it must be ≥ 1`);
  return v;
}

/** An NHWC activation: rank 4 is a format requirement of these ops, batch 1 a lowwater limit. */
function nhwc(shape: number[], ctx: OpContext, what = 'input'): void {
  if (shape.length !== 4) ctx.format(`${what} has shape ${describeShape(shape)}, expected NHWC`);
  if (shape[0] !== 1)
    ctx.unsupported(`${what} has batch ${shape[0]} (shape ${describeShape(shape)}); lowwater runs batch 1`);
}

/** A negative axis counts from the end (TFLite); the IR stores it non-negative. */
function normalizeAxis(axis: number, rank: number, ctx: OpContext): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < rank)) ctx.format(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function need(ctx: OpContext, min: number, max: number): void {
  const n = ctx.op.inputs.length;
  if (n < min || n > max) ctx.format(`has ${n} inputs, expected ${min === max ? min : `${min} to ${max}`}`);
  if (ctx.op.outputs.length !== 1) ctx.format(`has ${ctx.op.outputs.length} outputs, expected 1`);
}

function opName(f: TfliteFile, ctx: OpContext): string {
  return f.tensors[ctx.op.outputs[0]!]?.name ?? `op_${ctx.op.index}`;
}

/** Maps one TFLite operator onto IR ops. */
function mapOperator(imp: Importer, f: TfliteFile, ctx: OpContext): void {
  const op = ctx.op;
  const ins = op.inputs;
  const out = op.outputs[0]!;
  const name = opName(f, ctx);
  switch (ctx.code) {
    case Op.CONV_2D:
    case Op.DEPTHWISE_CONV_2D: {
      need(ctx, 2, 3);
      const dw = ctx.code === Op.DEPTHWISE_CONV_2D;
      const o = dw ? F.DepthwiseConv2DOptions : F.Conv2DOptions;
      const opt = options(
        ctx,
        dw ? OPTIONS.DepthwiseConv2DOptions : OPTIONS.Conv2DOptions,
        dw ? 'DepthwiseConv2DOptions' : 'Conv2DOptions',
        true,
      )!;
      const x = imp.activation(ins[0]!, ctx, 'input');
      const w = imp.constant(ins[1]!, ctx, 'weights', ['u8', 'i8', 'f32']);
      const bias = ins.length > 2 && ins[2]! >= 0 ? imp.constant(ins[2]!, ctx, 'bias', ['i32', 'f32']) : -1;
      imp.checkBias(bias, x, w, ctx);
      const ws = imp.tensorShape(w);
      const xs = imp.tensorShape(x);
      if (ws.length !== 4) ctx.format(`weights have shape ${describeShape(ws)}, expected 4-D`);
      nhwc(xs, ctx);
      if (!dw && xs[3] !== ws[3] && xs[3]! % ws[3]! === 0)
        ctx.unsupported(`grouped convolution (${xs[3]} input channels, weights ${describeShape(ws)}) is not supported`);
      const kernel: [number, number] = [ws[1]!, ws[2]!];
      const stride: [number, number] = [
        positive(opt.int32(o.stride_h, 0, 'stride_h'), 'stride_h', ctx),
        positive(opt.int32(o.stride_w, 0, 'stride_w'), 'stride_w', ctx),
      ];
      const dilation: [number, number] = [
        positive(opt.int32(o.dilation_h_factor, 1, 'dilation_h_factor'), 'dilation_h_factor', ctx),
        positive(opt.int32(o.dilation_w_factor, 1, 'dilation_w_factor'), 'dilation_w_factor', ctx),
      ];
      const pad = padding(opt.int8(o.padding, 0, 'padding'), ctx, xs[1]!, xs[2]!, kernel, stride, dilation);
      const act = activation(opt.int8(o.fused_activation_function, 0, 'fused_activation_function'), ctx);
      if (!dw) {
        imp.emit({ kind: 'conv2d', name, inputs: [x], kernel, stride, dilation, pad, act, weights: w, bias }, out, ctx);
      } else {
        // depth_multiplier in the options is redundant (newer TFLite kernels ignore it): the weights' channel count decides.
        const m = ws[3]! / xs[3]!;
        if (!Number.isInteger(m) || m < 1)
          ctx.format(`depthwise weights ${describeShape(ws)} do not have a multiple of the input's ${xs[3]} channels`);
        imp.emit(
          {
            kind: 'dwconv2d',
            name,
            inputs: [x],
            kernel,
            stride,
            dilation,
            pad,
            act,
            depthMultiplier: m,
            weights: w,
            bias,
          },
          out,
          ctx,
        );
      }
      return;
    }
    case Op.ADD: {
      need(ctx, 2, 2);
      const opt = options(ctx, OPTIONS.AddOptions, 'AddOptions', false);
      const act = activation(
        opt ? opt.int8(F.AddOptions.fused_activation_function, 0, 'fused_activation_function') : 0,
        ctx,
      );
      const [a, b] = [imp.activation(ins[0]!, ctx, 'input 0'), imp.activation(ins[1]!, ctx, 'input 1')];
      const [as, bs] = [imp.tensorShape(a), imp.tensorShape(b)];
      if (describeShape(as) !== describeShape(bs))
        ctx.unsupported(`broadcasting ADD of ${describeShape(as)} and ${describeShape(bs)} is not supported`);
      imp.emit({ kind: 'add', name, inputs: [a, b], act }, out, ctx);
      return;
    }
    case Op.AVERAGE_POOL_2D: {
      need(ctx, 1, 1);
      const o = F.Pool2DOptions;
      const opt = options(ctx, OPTIONS.Pool2DOptions, 'Pool2DOptions', true)!;
      const x = imp.activation(ins[0]!, ctx, 'input');
      const xs = imp.tensorShape(x);
      nhwc(xs, ctx);
      const kernel: [number, number] = [
        positive(opt.int32(o.filter_height, 0, 'filter_height'), 'filter_height', ctx),
        positive(opt.int32(o.filter_width, 0, 'filter_width'), 'filter_width', ctx),
      ];
      const stride: [number, number] = [
        positive(opt.int32(o.stride_h, 0, 'stride_h'), 'stride_h', ctx),
        positive(opt.int32(o.stride_w, 0, 'stride_w'), 'stride_w', ctx),
      ];
      const pad = padding(opt.int8(o.padding, 0, 'padding'), ctx, xs[1]!, xs[2]!, kernel, stride, [1, 1]);
      const act = activation(opt.int8(o.fused_activation_function, 0, 'fused_activation_function'), ctx);
      const covers = (n: number, k: number, s: number, before: number, after: number) =>
        Math.floor((n + before + after - k) / s) + 1 === 1 && k - before >= n;
      if (
        act === 'none' &&
        covers(xs[1]!, kernel[0], stride[0], pad.top, pad.bottom) &&
        covers(xs[2]!, kernel[1], stride[1], pad.left, pad.right)
      ) {
        // One window over the whole plane; padded pixels are not counted by TFLite, so it is the plain mean.
        imp.emit({ kind: 'global_avgpool', name, inputs: [x], keepDims: true }, out, ctx);
      } else {
        imp.emit({ kind: 'avgpool', name, inputs: [x], kernel, stride, pad, act }, out, ctx);
      }
      return;
    }
    case Op.MEAN: {
      need(ctx, 2, 2);
      const opt = options(ctx, OPTIONS.ReducerOptions, 'ReducerOptions', false);
      const keepDims = opt ? opt.bool(F.ReducerOptions.keep_dims, false, 'keep_dims') : false;
      const x = imp.activation(ins[0]!, ctx, 'input');
      const xs = imp.tensorShape(x);
      const axes = imp.params(ins[1]!, ctx, 'axes');
      const set = new Set(axes.map((a) => (a < 0 ? a + xs.length : a)));
      if (xs.length === 4) nhwc(xs, ctx);
      if (xs.length !== 4 || set.size !== 2 || !set.has(1) || !set.has(2))
        ctx.unsupported(
          `MEAN over axes [${axes}] of ${describeShape(xs)}; lowwater supports the mean over H and W of an NHWC tensor`,
        );
      imp.emit({ kind: 'global_avgpool', name, inputs: [x], keepDims }, out, ctx);
      return;
    }
    case Op.RESHAPE:
    case Op.SQUEEZE: {
      // RESHAPE's optional second input (the new shape) and SQUEEZE's squeeze_dims only restate what the output tensor declares.
      need(ctx, 1, ctx.code === Op.RESHAPE ? 2 : 1);
      imp.emit({ kind: 'reshape', name, inputs: [imp.activation(ins[0]!, ctx, 'input')] }, out, ctx);
      return;
    }
    case Op.SOFTMAX: {
      need(ctx, 1, 1);
      const opt = options(ctx, OPTIONS.SoftmaxOptions, 'SoftmaxOptions', false);
      const beta = opt ? opt.float32(F.SoftmaxOptions.beta, 0, 'beta') : 0;
      if (!Number.isFinite(beta)) ctx.format(`softmax beta is ${beta}`);
      imp.emit({ kind: 'softmax', name, inputs: [imp.activation(ins[0]!, ctx, 'input')], beta }, out, ctx);
      return;
    }
    case Op.FULLY_CONNECTED: {
      need(ctx, 2, 3);
      const o = F.FullyConnectedOptions;
      const opt = options(ctx, OPTIONS.FullyConnectedOptions, 'FullyConnectedOptions', false);
      const act = activation(opt ? opt.int8(o.fused_activation_function, 0, 'fused_activation_function') : 0, ctx);
      if (opt && opt.int8(o.weights_format, 0, 'weights_format') !== 0)
        ctx.unsupported('shuffled FULLY_CONNECTED weights (weights_format ≠ DEFAULT) are not supported');
      const x = imp.activation(ins[0]!, ctx, 'input');
      const w = imp.constant(ins[1]!, ctx, 'weights', ['u8', 'i8', 'f32']);
      const bias = ins.length > 2 && ins[2]! >= 0 ? imp.constant(ins[2]!, ctx, 'bias', ['i32', 'f32']) : -1;
      imp.checkBias(bias, x, w, ctx);
      const [xs, ws] = [imp.tensorShape(x), imp.tensorShape(w)];
      const k = xs.reduce((p, d) => p * d, 1);
      if (ws.length === 2 && xs.at(-1) === ws[1] && k !== ws[1])
        ctx.unsupported(
          `batched FULLY_CONNECTED (input ${describeShape(xs)}, weights ${describeShape(ws)}) is not supported`,
        );
      const n = ws[0];
      const os = f.tensors[out]?.shape ?? [];
      const spec: OpSpec = { kind: 'fully_connected', name, inputs: [x], act, weights: w, bias };
      if (os.length === 2 && os[0] === 1 && os[1] === n) {
        imp.emit(spec, out, ctx);
      } else {
        // keep_num_dims (or a rank-4 output): FC to [1,N], then a reshape to the declared shape.
        const declared = imp.outputSpec(out, ctx);
        const fc = imp.add(spec, { ...declared, name: `${name}/fc`, shape: undefined }, ctx);
        imp.emit({ kind: 'reshape', name: `${name}/reshape`, inputs: [fc] }, out, ctx);
      }
      return;
    }
    case Op.QUANTIZE:
    case Op.DEQUANTIZE: {
      need(ctx, 1, 1);
      const x = imp.activation(ins[0]!, ctx, 'input');
      imp.emit({ kind: ctx.code === Op.QUANTIZE ? 'quantize' : 'dequantize', name, inputs: [x] }, out, ctx);
      return;
    }
    case Op.CONCATENATION: {
      need(ctx, 1, Infinity);
      const opt = options(ctx, OPTIONS.ConcatenationOptions, 'ConcatenationOptions', true)!;
      const o = F.ConcatenationOptions;
      const act = activation(opt.int8(o.fused_activation_function, 0, 'fused_activation_function'), ctx);
      const inputs = ins.map((i, k) => imp.activation(i, ctx, `input ${k}`));
      const axis = normalizeAxis(opt.int32(o.axis, 0, 'axis'), imp.tensorShape(inputs[0]!).length, ctx);
      imp.emit({ kind: 'concat', name, inputs, axis, act }, out, ctx);
      return;
    }
    case Op.RESIZE_BILINEAR: {
      need(ctx, 2, 2);
      const o = F.ResizeBilinearOptions;
      const opt = options(ctx, OPTIONS.ResizeBilinearOptions, 'ResizeBilinearOptions', false);
      const x = imp.activation(ins[0]!, ctx, 'input');
      nhwc(imp.tensorShape(x), ctx);
      const size = imp.params(ins[1]!, ctx, 'size');
      if (size.length !== 2) ctx.format(`size has ${size.length} values, expected 2 (height, width)`);
      const alignCorners = opt ? opt.bool(o.align_corners, false, 'align_corners') : false;
      const halfPixelCenters = opt ? opt.bool(o.half_pixel_centers, false, 'half_pixel_centers') : false;
      if (alignCorners && halfPixelCenters) ctx.format('align_corners and half_pixel_centers are both set');
      const hw: [number, number] = [positive(size[0]!, 'output height', ctx), positive(size[1]!, 'output width', ctx)];
      imp.emit({ kind: 'resize_bilinear', name, inputs: [x], size: hw, alignCorners, halfPixelCenters }, out, ctx);
      return;
    }
    case Op.ARG_MAX: {
      need(ctx, 2, 2);
      const x = imp.activation(ins[0]!, ctx, 'input');
      const axis = imp.params(ins[1]!, ctx, 'axis');
      if (axis.length !== 1) ctx.format(`axis has ${axis.length} values, expected 1`);
      imp.emit(
        { kind: 'argmax', name, inputs: [x], axis: normalizeAxis(axis[0]!, imp.tensorShape(x).length, ctx) },
        out,
        ctx,
      );
      return;
    }
    default:
      ctx.unsupported(`op ${describeBuiltin(ctx.code)} is not supported by lowwater`);
  }
}

/** The file's base name without its extension (a path, a URL or a plain name), as the graph's name. */
function graphName(source: string): string {
  const base = source.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base) || 'tflite';
}

function inputNormalization(q: Quantization | undefined): InputNormalization {
  if (q) return { kind: 'quantized', scale: q.scale[0]!, zeroPoint: q.zeroPoint[0]! };
  // A float input carries no normalization in the file; TF MobileNetV2 float models take [-1, 1].
  return { kind: 'affine', scale: 1 / 127.5, offset: -1 };
}

/**
 * Imports a .tflite model (its first subgraph): the graph, read from the file's
 * tables; the weights stay in the file until the executor asks for them (each
 * constant is read when packed, after planning). Throws TfliteFormatError for a
 * malformed file (naming the byte offset) and TfliteUnsupportedError for ops,
 * types or options lowwater does not run (naming the op and operator index).
 */
export function importTflite(model: Uint8Array | ByteSource, source: string): LoadedModel {
  const src = model instanceof Uint8Array ? new MemorySource(model, source) : model;
  const f = readTfliteFile(src, source);
  if (f.operators.length > MAX_OPERATORS)
    throw new TfliteUnsupportedError(
      `the model has ${f.operators.length} operators; lowwater imports at most ${MAX_OPERATORS}`,
      source,
    );
  const name = graphName(source);
  const imp = new Importer(f, src, source, name);
  if (f.inputs.length === 0) throw new TfliteFormatError('the main subgraph has no inputs', f.subgraphOffset, source);
  for (const i of f.inputs) imp.input(i);
  // TFLite_Detection_PostProcess (and the LOGISTIC before it) run after the graph: see detection_postprocess.ts.
  const post: PostProcessSite | null = findDetectionPostProcess(f, source);
  const lifted = new Set(post ? [post.op, post.logistic].filter((o) => o !== null).map((o) => o.index) : []);
  for (const op of f.operators) {
    const code = f.opcodes[op.opcodeIndex];
    if (!code)
      throw new TfliteFormatError(
        `operator ${op.index}: opcode_index ${op.opcodeIndex} is out of range (${f.opcodes.length} operator codes)`,
        op.offset,
        source,
      );
    if (lifted.has(op.index)) continue;
    const ctx = new OpContext(op, code.builtin, source);
    if (code.builtin === Op.CUSTOM) ctx.unsupported(`custom op '${code.custom ?? ''}' is not supported by lowwater`);
    mapOperator(imp, f, ctx);
  }
  if (f.outputs.length === 0) throw new TfliteFormatError('the main subgraph has no outputs', f.subgraphOffset, source);
  let detectionPostProcess: LoadedModel['detectionPostProcess'];
  if (post) {
    // The graph ends at the op's box encodings and class scores (outputs 0 and 1), then any other subgraph output.
    imp.output(post.boxesTensor);
    imp.output(post.scoresTensor);
    for (const o of f.outputs)
      if (!post.op.outputs.includes(o) && o !== post.boxesTensor && o !== post.scoresTensor) imp.output(o);
    const anchors = imp.constantValues(post.anchorsTensor, new OpContext(post.op, Op.CUSTOM, source), 'anchors');
    const boxesGrid = gridOf(f.tensors[post.boxesTensor]!);
    const scoresGrid = gridOf(f.tensors[post.op.inputs[1]!]!);
    detectionPostProcess = {
      options: post.options,
      anchors,
      boxesOutput: 0,
      scoresOutput: 1,
      scoreSigmoid: post.logistic !== null,
      ...(boxesGrid ? { boxesGrid } : {}),
      ...(scoresGrid ? { scoresGrid } : {}),
    };
  } else {
    for (const o of f.outputs) imp.output(o);
  }
  const graph = imp.finish();
  try {
    validateGraph(graph);
  } catch (e) {
    if (e instanceof Error) throw new TfliteFormatError(`the imported graph is inconsistent: ${e.message}`, -1, source);
    throw e;
  }
  const input = graph.tensors[graph.inputs[0]!]!;
  if (input.shape.length !== 4 || input.shape[0] !== 1)
    throw new TfliteUnsupportedError(
      `input '${input.name}' has shape ${describeShape(input.shape)}; lowwater needs an NHWC image input with batch 1`,
      source,
    );
  return {
    source,
    format: 'tflite',
    graph,
    constants: new LazyConstants(
      imp.constantReads,
      source,
      () => src.release(),
      () => src.retainedBytes(),
    ),
    input: {
      height: input.shape[1]!,
      width: input.shape[2]!,
      channels: input.shape[3]!,
      normalization: inputNormalization(input.quant),
    },
    ...(detectionPostProcess ? { detectionPostProcess } : {}),
  };
}
