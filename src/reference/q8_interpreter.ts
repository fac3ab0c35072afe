/**
 * Reference interpreter of quantized graphs: runs a uint8/int8 graph op by op
 * with the scalar ops of q8_ops.ts, on the imported graph as it is (no
 * dequantization). It is what the q8 kernels, the integer executor path and
 * the TFLite fingerprints are checked against.
 */
import { describeShape, type Graph, type Op, type Tensor } from '../../planner/ir.js';
import type { ConstData, ConstantStore } from '../model.js';
import * as q from './q8_ops.js';

export type QValue = Uint8Array | Int8Array;

/** Scale, zero point and dtype of a per-tensor quantized activation; throws naming the op otherwise. */
export function activationQuant(t: Tensor, op: Op): { s: number; z: number; dtype: q.QDType } {
  if (t.dtype !== 'u8' && t.dtype !== 'i8')
    throw new Error(`op '${op.name}' (${op.kind}): tensor '${t.name}' is ${t.dtype}; the integer path needs u8 or i8`);
  if (!t.quant || t.quant.scale.length !== 1)
    throw new Error(`op '${op.name}' (${op.kind}): tensor '${t.name}' needs per-tensor quantization`);
  return { s: t.quant.scale[0]!, z: t.quant.zeroPoint[0]!, dtype: t.dtype };
}

/** Requantization multipliers and weight zero points of a conv / depthwise / FC op, per output channel. */
export function weightQuant(
  graph: Graph,
  op: Op & { weights: number },
  channels: number,
): { scale: number[]; zw: number[] } {
  const x = activationQuant(graph.tensors[op.inputs[0]!]!, op);
  const y = activationQuant(graph.tensors[op.outputs[0]!]!, op);
  const wt = graph.tensors[op.weights]!;
  const wq = wt.quant;
  if (!wq || (wq.scale.length !== 1 && wq.scale.length !== channels)) {
    throw new Error(
      `op '${op.name}' (${op.kind}): weights '${wt.name}' need per-tensor or per-output-channel quantization (${channels} channels), got ${wq ? wq.scale.length : 'none'}`,
    );
  }
  const scale = wq.scale.map((sw) => q.requantScale(x.s, sw, y.s));
  return { scale, zw: wq.zeroPoint.slice() };
}

function image(t: Tensor, data: QValue): q.QImage {
  if (t.shape.length !== 4 || t.shape[0] !== 1)
    throw new Error(`expected an NHWC tensor with batch 1, got '${t.name}' ${describeShape(t.shape)}`);
  return { h: t.shape[1]!, w: t.shape[2]!, c: t.shape[3]!, data };
}

function intConst(c: ConstData | undefined, what: string): Uint8Array | Int8Array {
  if (!(c instanceof Uint8Array) && !(c instanceof Int8Array))
    throw new Error(`q8 reference: ${what} is not uint8/int8`);
  return c;
}

function biasConst(c: ConstData | undefined, what: string): Int32Array {
  if (!(c instanceof Int32Array)) throw new Error(`q8 reference: ${what} is not int32`);
  return c;
}

/**
 * Runs the quantized `graph` on `input` (bytes of the first graph input) and returns every
 * activation by tensor id. `input` may instead map tensor ids to given values (op-by-op
 * checks: run `ops` from another engine's own inputs); those tensors are not recomputed.
 */
export function interpretQ8(
  graph: Graph,
  constants: ConstantStore,
  input: QValue | ReadonlyMap<number, QValue>,
  ops: readonly Op[] = graph.ops,
): Map<number, QValue | Int32Array> {
  const values = new Map<number, QValue | Int32Array>();
  if (input instanceof Map) for (const [id, v] of input) values.set(id, v);
  else values.set(graph.inputs[0]!, input as QValue);
  const get = (id: number): QValue => {
    const v = values.get(id);
    if (!(v instanceof Uint8Array) && !(v instanceof Int8Array))
      throw new Error(`q8 reference: tensor '${graph.tensors[id]!.name}' has no quantized value`);
    return v;
  };
  for (const op of ops) {
    const xt = graph.tensors[op.inputs[0]!]!;
    const yt = graph.tensors[op.outputs[0]!]!;
    const x = get(op.inputs[0]!);
    let y: QValue | Int32Array;
    switch (op.kind) {
      case 'conv2d':
      case 'dwconv2d': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        const oc = yt.shape[3]!;
        const { scale, zw } = weightQuant(graph, op, oc);
        const [lo, hi] = q.activationRange(op.act, yq.s, yq.z, yq.dtype);
        const p: q.QConvParams = {
          stride: op.stride,
          dilation: op.dilation,
          pad: op.pad,
          zx: xq.z,
          zw,
          scale,
          zOut: yq.z,
          lo,
          hi,
          outDtype: yq.dtype,
        };
        const w = intConst(constants.get(op.weights), `weights of '${op.name}'`);
        const b = op.bias >= 0 ? biasConst(constants.get(op.bias), `bias of '${op.name}'`) : null;
        if (op.kind === 'conv2d') y = q.refQConv2d(image(xt, x), w, oc, op.kernel[0], op.kernel[1], b, p).data;
        else {
          if (op.depthMultiplier !== 1)
            throw new Error(`q8 reference: depthwise '${op.name}' has depth multiplier ${op.depthMultiplier} (only 1)`);
          y = q.refQDepthwiseConv2d(image(xt, x), w, op.kernel[0], op.kernel[1], b, p).data;
        }
        break;
      }
      case 'fully_connected': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        const n = graph.tensors[op.weights]!.shape[0]!;
        const { scale, zw } = weightQuant(graph, op, n);
        const [lo, hi] = q.activationRange(op.act, yq.s, yq.z, yq.dtype);
        const w = intConst(constants.get(op.weights), `weights of '${op.name}'`);
        const b = op.bias >= 0 ? biasConst(constants.get(op.bias), `bias of '${op.name}'`) : null;
        y = q.refQFullyConnected(x, w, n, b, { zx: xq.z, zw, scale, zOut: yq.z, lo, hi, outDtype: yq.dtype });
        break;
      }
      case 'add': {
        const a = activationQuant(xt, op);
        const bq = activationQuant(graph.tensors[op.inputs[1]!]!, op);
        const yq = activationQuant(yt, op);
        const [lo, hi] = q.activationRange(op.act, yq.s, yq.z, yq.dtype);
        y = q.refQAdd(x, get(op.inputs[1]!), {
          za: a.z,
          sa: a.s,
          zb: bq.z,
          sb: bq.s,
          sOut: yq.s,
          zOut: yq.z,
          lo,
          hi,
          outDtype: yq.dtype,
        });
        break;
      }
      case 'global_avgpool': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        const img = image(xt, x);
        const [lo, hi] = q.dtypeRange(yq.dtype);
        if (xq.s === yq.s && xq.z === yq.z) y = q.refQGlobalAvgPool(img, lo, hi, yq.dtype);
        else y = q.refQMean(img, xq.z, q.meanScale(xq.s, yq.s, img.h * img.w), yq.z, lo, hi, yq.dtype);
        break;
      }
      case 'avgpool': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        if (xq.s !== yq.s || xq.z !== yq.z)
          throw new Error(
            `q8 reference: average pool '${op.name}' changes the quantization (TFLite requires the same)`,
          );
        const [lo, hi] = q.activationRange(op.act, yq.s, yq.z, yq.dtype);
        y = q.refQAvgPool(image(xt, x), op.kernel[0], op.kernel[1], op.stride, op.pad, lo, hi, yq.dtype).data;
        break;
      }
      case 'softmax': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        y = q.refQSoftmax(x, yt.shape[yt.shape.length - 1]!, xq.s, op.beta, yq.s, yq.z, yq.dtype);
        break;
      }
      case 'quantize': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        // Same type: XNNPACK's fixed-point convert; u8 ↔ i8: TFLite's builtin (float rounding).
        y =
          xq.dtype === yq.dtype
            ? q.refQConvert(x, xq.z, xq.s, yq.s, yq.z, yq.dtype)
            : q.refQRequantize(x, xq.z, xq.s, yq.s, yq.z, yq.dtype);
        break;
      }
      case 'resize_bilinear': {
        const xq = activationQuant(xt, op);
        const yq = activationQuant(yt, op);
        if (xq.s !== yq.s || xq.z !== yq.z || xq.dtype !== yq.dtype)
          throw new Error(`q8 reference: resize '${op.name}' changes the quantization (TFLite requires the same)`);
        y = q.refQResizeBilinear(
          image(xt, x),
          op.size[0],
          op.size[1],
          op.alignCorners,
          op.halfPixelCenters,
          yq.dtype,
        ).data;
        break;
      }
      case 'argmax': {
        activationQuant(xt, op);
        if (op.axis !== xt.shape.length - 1 && op.axis !== -1)
          throw new Error(
            `q8 reference: arg-max '${op.name}' over axis ${op.axis} of ${describeShape(xt.shape)}; only the last axis`,
          );
        y = q.refQArgMax(x, xt.shape[xt.shape.length - 1]!);
        break;
      }
      case 'resize_argmax': {
        const xq = activationQuant(xt, op);
        const r = q.refQResizeBilinear(
          image(xt, x),
          op.size[0],
          op.size[1],
          op.alignCorners,
          op.halfPixelCenters,
          xq.dtype,
        );
        y = q.refQArgMax(r.data, r.c);
        break;
      }
      case 'concat': {
        const yq = activationQuant(yt, op);
        for (const id of op.inputs) {
          const tq = activationQuant(graph.tensors[id]!, op);
          if (tq.s !== yq.s || tq.z !== yq.z || tq.dtype !== yq.dtype || op.act !== 'none')
            throw new Error(
              `q8 reference: concatenation '${op.name}' requantizes its inputs (only inputs on the output's grid)`,
            );
        }
        const axis = op.axis < 0 ? op.axis + yt.shape.length : op.axis;
        y = q.refQConcat(
          op.inputs.map((id) => ({ data: get(id), shape: graph.tensors[id]!.shape })),
          axis,
          yq.dtype,
        );
        break;
      }
      case 'reshape':
        y = x;
        break;
      default:
        throw new Error(`q8 reference: op '${op.name}' (${op.kind}) is not supported on the integer path`);
    }
    values.set(op.outputs[0]!, y);
  }
  return values;
}
