/**
 * Graph IR: pure data describing a network, shared by importers, model builders,
 * the planner and the executor. No WASM, no I/O.
 *
 * Conventions
 * - Activation tensors are NHWC (batch 1). Rank-2 tensors are [1, N].
 * - Constant tensors (weights, biases) carry `constant: true`; they live in the
 *   weights region, never in the activation arena, and are not op `inputs`:
 *   ops reference them through their own fields (`weights`, `bias`).
 * - `ops` is stored in a valid topological order (the file's order for imported
 *   models); the planner may choose another.
 * - Conv weights are OHWI ([outC, kH, kW, inC], TFLite's layout); depthwise
 *   weights are [1, kH, kW, C * depthMultiplier]; fully-connected weights are [outN, inK].
 */

export type DType = 'f32' | 'u8' | 'i8' | 'i32' | 'i64';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, u8: 1, i8: 1, i32: 4, i64: 8 };

/** Affine quantization: real = scale * (q - zeroPoint). Per-tensor when scale.length === 1. */
export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** Channel axis of per-channel parameters (TFLite `quantized_dimension`); 0 for per-tensor. */
  axis: number;
}

export interface Tensor {
  id: number;
  name: string;
  shape: number[];
  dtype: DType;
  quant?: Quantization;
  constant: boolean;
  /** Op that writes this tensor; -1 for graph inputs and constants. */
  producer: number;
  /** Ops that read this tensor as an activation input, in `ops` order. */
  consumers: number[];
}

export type Activation = 'none' | 'relu' | 'relu6';

/** Explicit padding in pixels. TF 'SAME' puts the odd pixel at the bottom/right. */
export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

interface OpBase {
  id: number;
  name: string;
  /** Where the op comes from in the model file, for errors: the TFLite operator's index and type. */
  origin?: { index: number; type: string };
  /** Activation tensor ids read by the op (never constants). */
  inputs: number[];
  /** Tensor ids written by the op. */
  outputs: number[];
}

export interface Conv2DOp extends OpBase {
  kind: 'conv2d';
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: Padding;
  act: Activation;
  weights: number;
  bias: number;
}

export interface DepthwiseConv2DOp extends OpBase {
  kind: 'dwconv2d';
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: Padding;
  act: Activation;
  depthMultiplier: number;
  weights: number;
  bias: number;
}

export interface AddOp extends OpBase {
  kind: 'add';
  act: Activation;
}

/** Average over the whole H×W plane (TFLite MEAN over H,W, or AVERAGE_POOL_2D whose window covers the input). */
export interface GlobalAvgPoolOp extends OpBase {
  kind: 'global_avgpool';
  /** Output is [1,1,1,C] when true, [1,C] when false. */
  keepDims: boolean;
}

/** Windowed average pool that does not cover the whole plane. */
export interface AvgPoolOp extends OpBase {
  kind: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  act: Activation;
}

export interface FullyConnectedOp extends OpBase {
  kind: 'fully_connected';
  act: Activation;
  weights: number;
  /** -1 when the layer has no bias. */
  bias: number;
}

export interface SoftmaxOp extends OpBase {
  kind: 'softmax';
  beta: number;
}

/** Same bytes, new shape (RESHAPE, SQUEEZE, Flatten). The planner may alias input and output. */
export interface ReshapeOp extends OpBase {
  kind: 'reshape';
}

export interface ConcatOp extends OpBase {
  kind: 'concat';
  /** Axis in the output's rank (3 = channels for NHWC). */
  axis: number;
  act: Activation;
}

export interface ResizeBilinearOp extends OpBase {
  kind: 'resize_bilinear';
  size: [number, number];
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

export interface ArgMaxOp extends OpBase {
  kind: 'argmax';
  axis: number;
}

/**
 * RESIZE_BILINEAR then ARG_MAX over channels, as one op (planner/fuse_resize_argmax.ts):
 * the class id of every output pixel, computed from its 4 source neighbours, so the
 * resized scores [1, size, C] never exist. Output [1, size[0], size[1]] of class ids:
 * u8 when C ≤ 256, else i32.
 */
export interface ResizeArgMaxOp extends OpBase {
  kind: 'resize_argmax';
  size: [number, number];
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** float → quantized (QUANTIZE) or quantized → quantized requantization. */
export interface QuantizeOp extends OpBase {
  kind: 'quantize';
}

export interface DequantizeOp extends OpBase {
  kind: 'dequantize';
}

export type Op =
  | Conv2DOp
  | DepthwiseConv2DOp
  | AddOp
  | GlobalAvgPoolOp
  | AvgPoolOp
  | FullyConnectedOp
  | SoftmaxOp
  | ReshapeOp
  | ConcatOp
  | ResizeBilinearOp
  | ArgMaxOp
  | ResizeArgMaxOp
  | QuantizeOp
  | DequantizeOp;

export type OpKind = Op['kind'];

export interface Graph {
  name: string;
  tensors: Tensor[];
  ops: Op[];
  inputs: number[];
  outputs: number[];
}

export function tensorElements(t: Pick<Tensor, 'shape'>): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

export function tensorBytes(t: Pick<Tensor, 'shape' | 'dtype'>): number {
  return tensorElements(t) * DTYPE_BYTES[t.dtype];
}

/** Constant tensors an op reads through its own fields (weights, bias). */
export function opConstants(op: Op): number[] {
  switch (op.kind) {
    case 'conv2d':
    case 'dwconv2d':
    case 'fully_connected':
      return op.bias >= 0 ? [op.weights, op.bias] : [op.weights];
    default:
      return [];
  }
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
