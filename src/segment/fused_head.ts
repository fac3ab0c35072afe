/**
 * Streaming segmentation head. Mobile DeepLab ends with class logits
 * [1, h, w, C] (33x33x21) → RESIZE_BILINEAR to the input size [1, H, W, C] →
 * ARG_MAX. The resized scores are by far the largest tensor of the network
 * (513·513·21 float32 = 22.1 MB, against ~11 MB for the rest of a Section 5.1
 * plan), yet the class map needs only each pixel's arg-max. So the head can be
 * computed row by row: resize two source rows horizontally, interpolate every
 * output pixel's C scores vertically, keep the first maximum. The resized
 * scores never exist; the work memory is two resized source rows (2·W·C
 * floats) and the class map (H·W bytes).
 *
 * The arithmetic is the f32 kernel's (assembly/misc.ts resizeBilinear, then
 * argmaxChannels), operation for operation in float32 (Math.fround after every
 * add, subtract and multiply: each is then the IEEE float32 operation), so the
 * class map is bit-identical to running the whole graph on the float path.
 * On the integer path the resize rounds to uint8 first; this head is float-only.
 */
import { GraphBuilder, validateGraph, type OpSpec } from '../../planner/builder.js';
import type { Graph, ResizeBilinearOp } from '../../planner/ir.js';
import type { ConstData, LoadedModel } from '../model.js';
import type { ClassMap } from './class_map.js';

const f = Math.fround;

export interface ResizeArgmaxParams {
  /** Source (logits) height, width, classes. */
  h: number;
  w: number;
  c: number;
  /** Output height and width. */
  outH: number;
  outW: number;
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Source taps of output coordinate o: the kernel's rule (f64 coordinates, f32 fraction). */
function taps(n: number, outN: number, alignCorners: boolean, halfPixelCenters: boolean): { i0: Int32Array; i1: Int32Array; frac: Float32Array } {
  const scale = alignCorners && outN > 1 ? (n - 1) / (outN - 1) : n / outN;
  const i0 = new Int32Array(outN);
  const i1 = new Int32Array(outN);
  const frac = new Float32Array(outN);
  for (let o = 0; o < outN; o++) {
    const s = halfPixelCenters ? (o + 0.5) * scale - 0.5 : o * scale;
    const fl = Math.floor(s);
    i0[o] = Math.min(n - 1, Math.max(0, fl));
    i1[o] = Math.min(n - 1, Math.max(0, fl + 1));
    frac[o] = s - fl;
  }
  return { i0, i1, frac };
}

/** Bytes of work memory resizeArgmax uses besides its output: two horizontally resized rows. */
export function resizeArgmaxWorkBytes(p: ResizeArgmaxParams): number {
  return 2 * p.outW * p.c * 4;
}

/** The class map of bilinear-resized scores, computed row by row (see the file comment). */
export function resizeArgmax(x: Float32Array, p: ResizeArgmaxParams): ClassMap {
  const { h, w, c, outH, outW } = p;
  if (x.length !== h * w * c) throw new Error(`resize+argmax: ${x.length} values for ${h}x${w}x${c}`);
  if (c > 256) throw new Error(`resize+argmax: ${c} classes do not fit a one-byte class map`);
  const ty = taps(h, outH, p.alignCorners, p.halfPixelCenters);
  const tx = taps(w, outW, p.alignCorners, p.halfPixelCenters);
  // Horizontally resized source rows (the kernel's `top` and `bot`), cached by source row.
  const rows = [new Float32Array(outW * c), new Float32Array(outW * c)];
  const rowOf = [-1, -1];
  const resizeRow = (slot: number, y: number) => {
    const r = rows[slot]!;
    const base = y * w * c;
    for (let ox = 0; ox < outW; ox++) {
      const a = base + tx.i0[ox]! * c;
      const b = base + tx.i1[ox]! * c;
      const dx = tx.frac[ox]!;
      const o = ox * c;
      for (let k = 0; k < c; k++) {
        const p0 = x[a + k]!;
        r[o + k] = f(p0 + f(f(x[b + k]! - p0) * dx));
      }
    }
    rowOf[slot] = y;
  };
  /** Resized source row y, evicting the cached row that is not `keep`. */
  const need = (y: number, keep: number): Float32Array => {
    if (rowOf[0] === y) return rows[0]!;
    if (rowOf[1] === y) return rows[1]!;
    const slot = rowOf[0] === keep ? 1 : 0;
    resizeRow(slot, y);
    return rows[slot]!;
  };
  const ids = new Uint8Array(outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    const y0 = ty.i0[oy]!;
    const y1 = ty.i1[oy]!;
    const top = need(y0, y1);
    const bot = need(y1, y0);
    const dy = ty.frac[oy]!;
    for (let ox = 0, o = 0; ox < outW; ox++, o += c) {
      let best = 0;
      let bv = f(top[o]! + f(f(bot[o]! - top[o]!) * dy));
      for (let k = 1; k < c; k++) {
        const t = top[o + k]!;
        const v = f(t + f(f(bot[o + k]! - t) * dy));
        if (v > bv) {
          bv = v;
          best = k;
        }
      }
      ids[oy * outW + ox] = best;
    }
  }
  return { width: outW, height: outH, ids };
}

export interface FusedHead {
  /** The model without its last RESIZE_BILINEAR and ARG_MAX: it ends at the logits. */
  model: LoadedModel;
  params: ResizeArgmaxParams;
  /** Class map from the truncated model's output. */
  classMap(logits: Float32Array): ClassMap;
  /** Work memory of the head besides the class map (bytes). */
  workBytes: number;
}

/**
 * Splits off a model's final RESIZE_BILINEAR → ARG_MAX (over channels), or
 * returns null when the graph does not end that way (one output, written by an
 * arg-max over the last axis of a resize read by nothing else). The head's
 * arithmetic is float32: use it only when the truncated model runs on the
 * float path (a quantized file is dequantized by then).
 */
export function fuseResizeArgmax(model: LoadedModel): FusedHead | null {
  const g = model.graph;
  if (g.outputs.length !== 1) return null;
  const argmax = g.ops[g.tensors[g.outputs[0]!]!.producer];
  if (!argmax || argmax.kind !== 'argmax') return null;
  const scores = g.tensors[argmax.inputs[0]!]!;
  if (argmax.axis !== scores.shape.length - 1 || scores.shape.length !== 4 || scores.consumers.length !== 1) return null;
  const resize = g.ops[scores.producer];
  if (!resize || resize.kind !== 'resize_bilinear') return null;
  const logits = g.tensors[resize.inputs[0]!]!;
  if (g.inputs.includes(logits.id)) return null;
  const [, h, w, c] = logits.shape as [number, number, number, number];
  const r = resize as ResizeBilinearOp;
  const params: ResizeArgmaxParams = { h, w, c, outH: r.size[0], outW: r.size[1], alignCorners: r.alignCorners, halfPixelCenters: r.halfPixelCenters };
  const truncated = truncateGraph(model, new Set([resize.id, argmax.id]), logits.id);
  return { model: truncated, params, classMap: (x) => resizeArgmax(x, params), workBytes: resizeArgmaxWorkBytes(params) };
}

/** A copy of the model without the ops in `drop`, whose only output is tensor `output`. */
function truncateGraph(model: LoadedModel, drop: Set<number>, output: number): LoadedModel {
  const src: Graph = model.graph;
  const b = new GraphBuilder(src.name);
  const map = new Map<number, number>();
  const constants = new Map<number, ConstData>();
  const constant = (id: number): number => {
    if (id < 0) return -1;
    const hit = map.get(id);
    if (hit !== undefined) return hit;
    const t = src.tensors[id]!;
    const nid = b.constant(t.name, t.shape, t.dtype, t.quant);
    const data = model.constants.get(id);
    if (data) constants.set(nid, data);
    map.set(id, nid);
    return nid;
  };
  for (const id of src.inputs) {
    const t = src.tensors[id]!;
    map.set(id, b.input(t.name, t.shape, t.dtype, t.quant));
  }
  for (const op of src.ops) {
    if (drop.has(op.id)) continue;
    const { id: _id, outputs: _o, ...rest } = op;
    const spec = { ...rest, inputs: op.inputs.map((i) => map.get(i)!) } as OpSpec & { weights?: number; bias?: number };
    if ('weights' in op) spec.weights = constant(op.weights);
    if ('bias' in op) spec.bias = constant(op.bias);
    const out = src.tensors[op.outputs[0]!]!;
    map.set(out.id, b.op(spec, { name: out.name, shape: out.shape, dtype: out.dtype, ...(out.quant ? { quant: out.quant } : {}) }));
  }
  b.output(map.get(output)!);
  const graph = b.finish();
  validateGraph(graph);
  return { ...model, graph, constants };
}
