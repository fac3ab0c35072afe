/**
 * Reference interpreter: runs a float32 graph op by op with the scalar
 * reference ops. Slow and simple; it is what the WASM executor and the
 * importers are checked against.
 */
import type { Graph, Op } from '../../planner/ir.js';
import type { ConstData, ConstantStore } from '../model.js';
import * as ref from './ops.js';

function asImage(shape: number[], data: Float32Array): ref.Image {
  if (shape.length !== 4) throw new Error(`expected an NHWC tensor, got [${shape.join(',')}]`);
  return { h: shape[1]!, w: shape[2]!, c: shape[3]!, data };
}

function f32(c: ConstData | undefined, what: string): Float32Array {
  if (!(c instanceof Float32Array))
    throw new Error(`reference interpreter: ${what} is not float32 (dequantize the model first)`);
  return c;
}

/** Runs `graph` on `input` (the first graph input) and returns every tensor's value by id. */
export function interpret(
  graph: Graph,
  constants: ConstantStore,
  input: Float32Array,
): Map<number, Float32Array | Int32Array> {
  const values = new Map<number, Float32Array | Int32Array>();
  values.set(graph.inputs[0]!, input);
  const get = (id: number): Float32Array => {
    const v = values.get(id);
    if (!(v instanceof Float32Array))
      throw new Error(`reference interpreter: tensor '${graph.tensors[id]!.name}' has no float value`);
    return v;
  };
  const cst = (id: number, op: Op): Float32Array | null =>
    id < 0 ? null : f32(constants.get(id), `constant '${graph.tensors[id]?.name}' of op '${op.name}'`);
  for (const op of graph.ops) {
    const xs = graph.tensors[op.inputs[0]!]!;
    const x = get(op.inputs[0]!);
    let y: Float32Array | Int32Array;
    switch (op.kind) {
      case 'conv2d': {
        const w = graph.tensors[op.weights]!.shape;
        y = ref.refConv2d(asImage(xs.shape, x), cst(op.weights, op)!, w[0]!, w[1]!, w[2]!, cst(op.bias, op), op).data;
        break;
      }
      case 'dwconv2d':
        y = ref.refDepthwiseConv2d(
          asImage(xs.shape, x),
          cst(op.weights, op)!,
          op.kernel[0],
          op.kernel[1],
          op.depthMultiplier,
          cst(op.bias, op),
          op,
        ).data;
        break;
      case 'add':
        y = ref.refAdd(x, get(op.inputs[1]!), op.act);
        break;
      case 'global_avgpool':
        y = ref.refGlobalAvgPool(asImage(xs.shape, x));
        break;
      case 'avgpool':
        y = ref.refAvgPool(asImage(xs.shape, x), op.kernel[0], op.kernel[1], op).data;
        break;
      case 'fully_connected':
        y = ref.refFullyConnected(
          x,
          cst(op.weights, op)!,
          graph.tensors[op.weights]!.shape[0]!,
          cst(op.bias, op),
          op.act,
        );
        break;
      case 'softmax': {
        const s = graph.tensors[op.outputs[0]!]!.shape;
        y = ref.refSoftmax(x, s[s.length - 1]!, op.beta);
        break;
      }
      case 'reshape':
      case 'quantize':
      case 'dequantize':
        y = x.slice();
        break;
      case 'concat': {
        const axis = op.axis < 0 ? op.axis + xs.shape.length : op.axis;
        y = ref.refConcat(
          op.inputs.map((i) => ({ shape: graph.tensors[i]!.shape, data: get(i) })),
          axis,
        );
        break;
      }
      case 'resize_bilinear':
        y = ref.refResizeBilinear(
          asImage(xs.shape, x),
          op.size[0],
          op.size[1],
          op.alignCorners,
          op.halfPixelCenters,
        ).data;
        break;
      case 'resize_argmax': {
        const r = ref.refResizeBilinear(
          asImage(xs.shape, x),
          op.size[0],
          op.size[1],
          op.alignCorners,
          op.halfPixelCenters,
        );
        y = ref.refArgMax(r.data, r.c);
        break;
      }
      case 'argmax': {
        const axis = op.axis < 0 ? op.axis + xs.shape.length : op.axis;
        if (axis !== xs.shape.length - 1)
          throw new Error(`reference interpreter: argmax '${op.name}' only over the last axis`);
        y = ref.refArgMax(x, xs.shape[axis]!);
        break;
      }
    }
    values.set(op.outputs[0]!, y);
  }
  return values;
}
