/**
 * Test helper: writes small .tflite files with the flatbuffers Builder, laid
 * out by the schema (tensorflow/lite/schema/schema.fbs), independently of the
 * importer's reader. Field ids here are written out by hand on purpose.
 */
import { Builder } from 'flatbuffers';

export interface TinyTensor {
  name: string;
  shape: number[];
  /** TensorType: FLOAT32 0, INT32 2, UINT8 3, INT64 4, INT8 9. */
  type: number;
  data?: Uint8Array;
  quant?: { scale: number[]; zeroPoint: number[]; axis?: number };
}

export type FieldValue = ['i8' | 'bool', number] | ['i32', number] | ['f32', number];

export interface TinyOp {
  opcode: number;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union tag and the option table's fields by field id. */
  options?: { type: number; fields: Record<number, FieldValue> };
  /** Operator.custom_options bytes (a FlexBuffer for custom ops). */
  customOptions?: Uint8Array;
}

export interface TinyOpCode {
  deprecated: number;
  builtin?: number;
  custom?: string;
}

export interface TinyModel {
  opcodes: TinyOpCode[];
  tensors: TinyTensor[];
  ops: TinyOp[];
  inputs: number[];
  outputs: number[];
}

function intVector(b: Builder, v: number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]!);
  return b.endVector();
}

function offsetVector(b: Builder, v: number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]!);
  return b.endVector();
}

export function writeTflite(m: TinyModel): Uint8Array {
  const b = new Builder(1024);
  // Buffers: 0 is the empty sentinel, then one per tensor with data.
  const bufferIndex: number[] = [];
  const buffers: number[] = [];
  b.startObject(3);
  buffers.push(b.endObject());
  for (const t of m.tensors) {
    if (!t.data) {
      bufferIndex.push(0);
      continue;
    }
    b.startVector(1, t.data.length, 16);
    for (let i = t.data.length - 1; i >= 0; i--) b.addInt8(t.data[i]!);
    const data = b.endVector();
    b.startObject(3);
    b.addFieldOffset(0, data, 0); // Buffer.data
    bufferIndex.push(buffers.length);
    buffers.push(b.endObject());
  }

  const tensors = m.tensors.map((t, i) => {
    const shape = intVector(b, t.shape);
    const name = b.createString(t.name);
    let quant = 0;
    if (t.quant) {
      b.startVector(4, t.quant.scale.length, 4);
      for (let k = t.quant.scale.length - 1; k >= 0; k--) b.addFloat32(t.quant.scale[k]!);
      const scale = b.endVector();
      b.startVector(8, t.quant.zeroPoint.length, 8);
      for (let k = t.quant.zeroPoint.length - 1; k >= 0; k--) b.addInt64(BigInt(t.quant.zeroPoint[k]!));
      const zp = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0); // QuantizationParameters.scale
      b.addFieldOffset(3, zp, 0); // .zero_point
      b.addFieldInt32(6, t.quant.axis ?? 0, 0); // .quantized_dimension
      quant = b.endObject();
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0); // Tensor.shape
    b.addFieldInt8(1, t.type, 0); // .type
    b.addFieldInt32(2, bufferIndex[i]!, 0); // .buffer
    b.addFieldOffset(3, name, 0); // .name
    if (quant) b.addFieldOffset(4, quant, 0); // .quantization
    return b.endObject();
  });

  const ops = m.ops.map((op) => {
    const inputs = intVector(b, op.inputs);
    const outputs = intVector(b, op.outputs);
    let custom = 0;
    if (op.customOptions) {
      b.startVector(1, op.customOptions.length, 1);
      for (let i = op.customOptions.length - 1; i >= 0; i--) b.addInt8(op.customOptions[i]!);
      custom = b.endVector();
    }
    let options = 0;
    if (op.options) {
      const ids = Object.keys(op.options.fields).map(Number);
      b.startObject(Math.max(0, ...ids) + 1);
      for (const id of ids) {
        const [kind, v] = op.options.fields[id]!;
        if (kind === 'i32') b.addFieldInt32(id, v, null);
        else if (kind === 'f32') b.addFieldFloat32(id, v, null);
        else b.addFieldInt8(id, v, null);
      }
      options = b.endObject();
    }
    b.startObject(7);
    b.addFieldInt32(0, op.opcode, 0); // Operator.opcode_index
    b.addFieldOffset(1, inputs, 0); // .inputs
    b.addFieldOffset(2, outputs, 0); // .outputs
    if (op.options) {
      b.addFieldInt8(3, op.options.type, 0); // .builtin_options_type
      b.addFieldOffset(4, options, 0); // .builtin_options
    }
    if (custom) b.addFieldOffset(5, custom, 0); // .custom_options (format FLEXBUFFERS, the default 0)
    return b.endObject();
  });

  const opcodes = m.opcodes.map((c) => {
    const custom = c.custom ? b.createString(c.custom) : 0;
    b.startObject(4);
    b.addFieldInt8(0, c.deprecated, 0); // OperatorCode.deprecated_builtin_code
    if (custom) b.addFieldOffset(1, custom, 0); // .custom_code
    b.addFieldInt32(2, 1, 1); // .version
    if (c.builtin !== undefined) b.addFieldInt32(3, c.builtin, 0); // .builtin_code
    return b.endObject();
  });

  const tensorsV = offsetVector(b, tensors);
  const inputsV = intVector(b, m.inputs);
  const outputsV = intVector(b, m.outputs);
  const opsV = offsetVector(b, ops);
  const sgName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(0, tensorsV, 0); // SubGraph.tensors
  b.addFieldOffset(1, inputsV, 0); // .inputs
  b.addFieldOffset(2, outputsV, 0); // .outputs
  b.addFieldOffset(3, opsV, 0); // .operators
  b.addFieldOffset(4, sgName, 0); // .name
  const sg = b.endObject();

  const codesV = offsetVector(b, opcodes);
  const sgV = offsetVector(b, [sg]);
  const buffersV = offsetVector(b, buffers);
  const desc = b.createString('lowwater test model');
  b.startObject(5);
  b.addFieldInt32(0, 3, 0); // Model.version
  b.addFieldOffset(1, codesV, 0); // .operator_codes
  b.addFieldOffset(2, sgV, 0); // .subgraphs
  b.addFieldOffset(3, desc, 0); // .description
  b.addFieldOffset(4, buffersV, 0); // .buffers
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** Little-endian bytes of typed values. */
export const bytesOf = {
  u8: (v: number[]) => Uint8Array.from(v),
  i8: (v: number[]) => new Uint8Array(Int8Array.from(v).buffer),
  i32: (v: number[]) => new Uint8Array(Int32Array.from(v).buffer),
  f32: (v: number[]) => new Uint8Array(Float32Array.from(v).buffer),
};

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A small quantized network touching every mapped op family:
 * CONV_2D 3x3/2 SAME relu6 (u8 weights) → DEPTHWISE_CONV_2D 3x3 m=2 (i8 per-channel
 * weights, axis 3) → AVERAGE_POOL_2D over the whole 2x2 plane → RESHAPE [1,4] →
 * FULLY_CONNECTED 4→3 → SOFTMAX. Old-style (int8-only) and new-style opcodes mixed.
 */
export function tinyQuantModel(seed = 1): {
  model: TinyModel;
  weights: { conv: number[]; convBias: number[]; dw: number[]; dwBias: number[]; fc: number[]; fcBias: number[] };
} {
  const r = rng(seed);
  const ints = (n: number, lo: number, hi: number) =>
    Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  const conv = ints(2 * 3 * 3 * 3, 0, 255);
  const convBias = ints(2, -2000, 2000);
  const dw = ints(3 * 3 * 4, -127, 127);
  const dwBias = ints(4, -500, 500);
  const fc = ints(3 * 4, 0, 255);
  const fcBias = ints(3, -300, 300);
  const sIn = 1 / 128;
  const sConv = 0.02;
  const sAct1 = 6 / 255;
  const sDw = [0.011, 0.017, 0.023, 0.005];
  const sAct2 = 0.05;
  const sFc = 0.03;
  const model: TinyModel = {
    opcodes: [
      { deprecated: 3 }, // CONV_2D, old style: builtin_code absent
      { deprecated: 4, builtin: 4 }, // DEPTHWISE_CONV_2D
      { deprecated: 1, builtin: 1 }, // AVERAGE_POOL_2D
      { deprecated: 22 }, // RESHAPE
      { deprecated: 9, builtin: 9 }, // FULLY_CONNECTED
      { deprecated: 25, builtin: 25 }, // SOFTMAX
    ],
    tensors: [
      { name: 'input', shape: [1, 4, 4, 3], type: 3, quant: { scale: [sIn], zeroPoint: [128] } },
      {
        name: 'conv/w',
        shape: [2, 3, 3, 3],
        type: 3,
        data: bytesOf.u8(conv),
        quant: { scale: [sConv], zeroPoint: [120] },
      },
      {
        name: 'conv/b',
        shape: [2],
        type: 2,
        data: bytesOf.i32(convBias),
        quant: { scale: [sIn * sConv], zeroPoint: [0] },
      },
      { name: 'conv', shape: [1, 2, 2, 2], type: 3, quant: { scale: [sAct1], zeroPoint: [0] } },
      {
        name: 'dw/w',
        shape: [1, 3, 3, 4],
        type: 9,
        data: bytesOf.i8(dw),
        quant: { scale: sDw, zeroPoint: [0, 0, 0, 0], axis: 3 },
      },
      {
        name: 'dw/b',
        shape: [4],
        type: 2,
        data: bytesOf.i32(dwBias),
        quant: { scale: sDw.map((s) => s * sAct1), zeroPoint: [0, 0, 0, 0] },
      },
      { name: 'dw', shape: [1, 2, 2, 4], type: 3, quant: { scale: [sAct2], zeroPoint: [100] } },
      { name: 'pool', shape: [1, 1, 1, 4], type: 3, quant: { scale: [sAct2], zeroPoint: [100] } },
      { name: 'reshape/shape', shape: [2], type: 2, data: bytesOf.i32([1, 4]) },
      { name: 'flat', shape: [1, 4], type: 3, quant: { scale: [sAct2], zeroPoint: [100] } },
      { name: 'fc/w', shape: [3, 4], type: 3, data: bytesOf.u8(fc), quant: { scale: [sFc], zeroPoint: [128] } },
      { name: 'fc/b', shape: [3], type: 2, data: bytesOf.i32(fcBias), quant: { scale: [sAct2 * sFc], zeroPoint: [0] } },
      { name: 'logits', shape: [1, 3], type: 3, quant: { scale: [0.1], zeroPoint: [128] } },
      { name: 'probs', shape: [1, 3], type: 3, quant: { scale: [1 / 256], zeroPoint: [0] } },
    ],
    ops: [
      // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3
      {
        opcode: 0,
        inputs: [0, 1, 2],
        outputs: [3],
        options: { type: 1, fields: { 0: ['i8', 0], 1: ['i32', 2], 2: ['i32', 2], 3: ['i8', 3] } },
      },
      // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, act 4
      {
        opcode: 1,
        inputs: [3, 4, 5],
        outputs: [6],
        options: { type: 2, fields: { 0: ['i8', 0], 1: ['i32', 1], 2: ['i32', 1], 3: ['i32', 2], 4: ['i8', 0] } },
      },
      // Pool2DOptions: padding 1 (VALID), stride_w, stride_h, filter_width, filter_height
      {
        opcode: 2,
        inputs: [6],
        outputs: [7],
        options: { type: 5, fields: { 0: ['i8', 1], 1: ['i32', 2], 2: ['i32', 2], 3: ['i32', 2], 4: ['i32', 2] } },
      },
      { opcode: 3, inputs: [7, 8], outputs: [9] },
      { opcode: 4, inputs: [9, 10, 11], outputs: [12], options: { type: 8, fields: {} } },
      // SoftmaxOptions.beta
      { opcode: 5, inputs: [12], outputs: [13], options: { type: 9, fields: { 0: ['f32', 1] } } },
    ],
    inputs: [0],
    outputs: [13],
  };
  return { model, weights: { conv, convBias, dw, dwBias, fc, fcBias } };
}

/**
 * A small float head touching the remaining mapped ops: DEQUANTIZE (uint8 input)
 * → RESIZE_BILINEAR 2x2→3x3 (half-pixel) → MEAN over H,W (keep_dims) →
 * FULLY_CONNECTED with keep_num_dims (no bias) → CONCATENATION (axis −1, the
 * same tensor twice) → SQUEEZE → ARG_MAX (INT64 axis). Two graph outputs.
 */
export function tinyHeadModel(): { model: TinyModel; fc: number[] } {
  const fc = [0.5, -1.25, 2, -0.75, 1.5, 0.25];
  const model: TinyModel = {
    opcodes: [
      { deprecated: 6, builtin: 6 }, // DEQUANTIZE
      { deprecated: 23, builtin: 23 }, // RESIZE_BILINEAR
      { deprecated: 40, builtin: 40 }, // MEAN
      { deprecated: 9, builtin: 9 }, // FULLY_CONNECTED
      { deprecated: 2, builtin: 2 }, // CONCATENATION
      { deprecated: 43, builtin: 43 }, // SQUEEZE
      { deprecated: 56, builtin: 56 }, // ARG_MAX
    ],
    tensors: [
      { name: 'pixels', shape: [1, 2, 2, 3], type: 3, quant: { scale: [1 / 127.5], zeroPoint: [127] } },
      { name: 'x', shape: [1, 2, 2, 3], type: 0 },
      { name: 'size', shape: [2], type: 2, data: bytesOf.i32([3, 3]) },
      { name: 'resized', shape: [1, 3, 3, 3], type: 0 },
      { name: 'axes', shape: [2], type: 2, data: bytesOf.i32([1, 2]) },
      { name: 'mean', shape: [1, 1, 1, 3], type: 0 },
      { name: 'fc/w', shape: [2, 3], type: 0, data: bytesOf.f32(fc) },
      { name: 'fc', shape: [1, 1, 1, 2], type: 0 },
      { name: 'concat', shape: [1, 1, 1, 4], type: 0 },
      { name: 'squeezed', shape: [1, 4], type: 0 },
      { name: 'argmax/axis', shape: [], type: 4, data: new Uint8Array(BigInt64Array.from([1n]).buffer) },
      { name: 'argmax', shape: [1], type: 2 },
    ],
    ops: [
      { opcode: 0, inputs: [0], outputs: [1] },
      // ResizeBilinearOptions: align_corners (2) false, half_pixel_centers (3) true
      { opcode: 1, inputs: [1, 2], outputs: [3], options: { type: 15, fields: { 2: ['bool', 0], 3: ['bool', 1] } } },
      // ReducerOptions.keep_dims
      { opcode: 2, inputs: [3, 4], outputs: [5], options: { type: 27, fields: { 0: ['bool', 1] } } },
      // FullyConnectedOptions: keep_num_dims (2); bias omitted (-1)
      { opcode: 3, inputs: [5, 6, -1], outputs: [7], options: { type: 8, fields: { 2: ['bool', 1] } } },
      // ConcatenationOptions: axis −1
      { opcode: 4, inputs: [7, 7], outputs: [8], options: { type: 10, fields: { 0: ['i32', -1] } } },
      { opcode: 5, inputs: [8], outputs: [9] },
      // ArgMaxOptions.output_type INT32
      { opcode: 6, inputs: [9, 10], outputs: [11], options: { type: 40, fields: { 0: ['i8', 2] } } },
    ],
    inputs: [0],
    outputs: [11, 9],
  };
  return { model, fc };
}
