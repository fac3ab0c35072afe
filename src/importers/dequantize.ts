/**
 * The float path of a quantized model: every activation becomes float32 (its
 * quantization dropped), weights are dequantized, and QUANTIZE/DEQUANTIZE ops
 * disappear (their consumers read the op's input instead). The result runs on
 * float kernels and in the reference interpreter; it is close to, not equal
 * to, the integer engine (no requantization rounding, no clamping to the
 * quantized range).
 */
import { GraphBuilder, validateGraph, type OpSpec, type OutputSpec } from '../../planner/builder.js';
import { describeShape, type Graph, type Op, type Quantization, type Tensor } from '../../planner/ir.js';
import { LazyConstants, type ConstData, type LoadedModel } from '../model.js';

/**
 * w[i] = scale[c] · (q[i] − zeroPoint[c]), c = i's index along `quant.axis`
 * (TFLite quantized_dimension; one scale = per tensor).
 */
export function dequantizeTensor(shape: readonly number[], data: ArrayLike<number>, quant: Quantization): Float32Array {
  const out = new Float32Array(data.length);
  const channels = quant.scale.length;
  if (channels === 1) {
    const s = quant.scale[0]!;
    const z = quant.zeroPoint[0]!;
    for (let i = 0; i < data.length; i++) out[i] = s * (data[i]! - z);
    return out;
  }
  if (shape[quant.axis] !== channels)
    throw new Error(`dequantize: ${channels} scales do not fit axis ${quant.axis} of ${describeShape(shape)}`);
  let inner = 1;
  for (let d = quant.axis + 1; d < shape.length; d++) inner *= shape[d]!;
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = quant.scale[c]! * (data[i]! - quant.zeroPoint[c]!);
  }
  return out;
}

/**
 * int32 bias of a quantized conv/FC: b[c] = s_in · s_w[c] · q[c] (TFLite's
 * bias scale; its zero point is 0).
 */
export function dequantizeBias(q: Int32Array, inputScale: number, weightScale: readonly number[]): Float32Array {
  const out = new Float32Array(q.length);
  for (let c = 0; c < q.length; c++) out[c] = inputScale * weightScale[weightScale.length === 1 ? 0 : c]! * q[c]!;
  return out;
}

function asNumbers(d: ConstData, what: string): ArrayLike<number> {
  if (d instanceof BigInt64Array) throw new Error(`dequantize: ${what} is int64, which has no float form here`);
  return d;
}

/** Returns the float32 model of a (possibly quantized) model; `input.normalization` is kept (float input = scale · (p − zeroPoint)). */
export function dequantizeModel(model: LoadedModel): LoadedModel {
  const src = model.graph;
  const g = new GraphBuilder(src.name);
  /** How each float constant is computed from the model's own, when the executor asks for it. */
  const reads = new Map<number, () => ConstData>();
  /** old tensor id → new tensor id */
  const map = new Map<number, number>();
  const constMemo = new Map<string, number>();
  const tensor = (id: number): Tensor => src.tensors[id]!;
  const mapped = (id: number): number => {
    const n = map.get(id);
    if (n === undefined) throw new Error(`dequantize: tensor '${tensor(id).name}' is read before it is written`);
    return n;
  };

  const weights = (id: number, op: Op): number => {
    const key = `w${id}`;
    const hit = constMemo.get(key);
    if (hit !== undefined) return hit;
    const t = tensor(id);
    if (t.dtype !== 'f32' && !t.quant)
      throw new Error(
        `dequantize: weights '${t.name}' of op '${op.name}' are ${t.dtype} without quantization parameters`,
      );
    const read = (): ConstData => {
      const data = model.constants.get(id);
      if (!data) throw new Error(`dequantize: weights '${t.name}' of op '${op.name}' have no data`);
      if (data instanceof Float32Array) return data;
      return dequantizeTensor(t.shape, asNumbers(data, `weights '${t.name}'`), t.quant!);
    };
    const nid = g.constant(t.name, t.shape, 'f32');
    reads.set(nid, read);
    constMemo.set(key, nid);
    return nid;
  };

  const bias = (id: number, op: Op & { weights: number }): number => {
    if (id < 0) return -1;
    const t = tensor(id);
    const inQ = tensor(op.inputs[0]!).quant;
    const wQ = tensor(op.weights).quant;
    const key = `b${id}:${inQ?.scale[0] ?? ''}:${op.weights}`;
    const hit = constMemo.get(key);
    if (hit !== undefined) return hit;
    if (t.dtype !== 'f32' && !(t.dtype === 'i32' && inQ && wQ) && !t.quant)
      throw new Error(
        `dequantize: bias '${t.name}' of op '${op.name}' is ${t.dtype} and neither it nor its op's input and weights carry quantization`,
      );
    const read = (): ConstData => {
      const data = model.constants.get(id);
      if (!data) throw new Error(`dequantize: bias '${t.name}' of op '${op.name}' has no data`);
      if (data instanceof Float32Array) return data;
      if (data instanceof Int32Array && inQ && wQ) return dequantizeBias(data, inQ.scale[0]!, wQ.scale);
      return dequantizeTensor(t.shape, asNumbers(data, `bias '${t.name}'`), t.quant!);
    };
    const nid = g.constant(t.name, t.shape, 'f32');
    reads.set(nid, read);
    constMemo.set(key, nid);
    return nid;
  };

  for (const id of src.inputs) {
    const t = tensor(id);
    map.set(id, g.input(t.name, t.shape, 'f32'));
  }

  for (const op of src.ops) {
    if (op.kind === 'quantize' || op.kind === 'dequantize') {
      // Same real values on both sides: the consumers read the input directly.
      map.set(op.outputs[0]!, mapped(op.inputs[0]!));
      continue;
    }
    const { id: _id, outputs: _outs, ...rest } = op;
    const spec = { ...rest, inputs: op.inputs.map(mapped) } as OpSpec & { weights?: number; bias?: number };
    if (op.kind === 'conv2d' || op.kind === 'dwconv2d' || op.kind === 'fully_connected') {
      spec.weights = weights(op.weights, op);
      spec.bias = bias(op.bias, op);
    }
    const out = tensor(op.outputs[0]!);
    // Arg-max class ids are int32 on the float path (the f32 kernel's output; TFLite files often declare INT64).
    // A fused resize_argmax keeps its class-id dtype (u8 or i32).
    const o: OutputSpec = {
      name: out.name,
      shape: out.shape,
      dtype: op.kind === 'argmax' ? 'i32' : op.kind === 'resize_argmax' ? out.dtype : 'f32',
    };
    map.set(out.id, g.op(spec, o));
  }
  for (const id of src.outputs) g.output(mapped(id));
  const graph: Graph = g.finish();
  validateGraph(graph);
  const source = model.constants;
  const constants = new LazyConstants(
    reads,
    `${model.source} (dequantized)`,
    () => source.release?.(),
    () => source.retainedBytes?.() ?? 0,
  );
  return { ...model, graph, constants };
}
