/**
 * Shape rules of every IR op, TensorFlow semantics. Used by GraphBuilder to
 * infer output shapes and by importers to validate what a file declares.
 */
import { describeShape, type Graph, type Op, type Padding } from './ir.js';

/** TF 'SAME' padding along one axis: the odd pixel goes after (bottom/right). */
export function samePadding1D(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const outSize = Math.ceil(inSize / stride);
  const effK = (kernel - 1) * dilation + 1;
  const total = Math.max((outSize - 1) * stride + effK - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function samePadding(
  inH: number,
  inW: number,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number] = [1, 1],
): Padding {
  const [top, bottom] = samePadding1D(inH, kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding1D(inW, kernel[1], stride[1], dilation[1]);
  return { top, bottom, left, right };
}

export const VALID: Padding = Object.freeze({ top: 0, bottom: 0, left: 0, right: 0 });

export function convOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBefore: number,
  padAfter: number,
): number {
  const effK = (kernel - 1) * dilation + 1;
  return Math.floor((inSize + padBefore + padAfter - effK) / stride) + 1;
}

export class ShapeError extends Error {
  constructor(op: Pick<Op, 'name' | 'kind'>, message: string) {
    super(`op '${op.name}' (${op.kind}): ${message}`);
    this.name = 'ShapeError';
  }
}

function need4D(op: Op, shape: number[], what: string): void {
  if (shape.length !== 4 || shape[0] !== 1)
    throw new ShapeError(op, `${what} must be NHWC with batch 1, got ${describeShape(shape)}`);
}

/**
 * Output shapes of `op` given the graph's tensors (inputs and constants must
 * already have shapes). Throws ShapeError naming the op and the shapes.
 */
export function inferOutputShapes(graph: Pick<Graph, 'tensors'>, op: Op): number[][] {
  const shapeOf = (id: number): number[] => {
    const t = graph.tensors[id];
    if (!t) throw new ShapeError(op, `refers to missing tensor ${id}`);
    return t.shape;
  };
  const ins = op.inputs.map(shapeOf);
  if (ins.length === 0) throw new ShapeError(op, 'has no inputs');
  const x = ins[0]!;
  switch (op.kind) {
    case 'conv2d': {
      need4D(op, x, 'input');
      const w = shapeOf(op.weights);
      if (w.length !== 4 || w[1] !== op.kernel[0] || w[2] !== op.kernel[1] || w[3] !== x[3]) {
        throw new ShapeError(
          op,
          `weights ${describeShape(w)} do not fit kernel ${op.kernel.join('x')} over input ${describeShape(x)} (want [O,${op.kernel[0]},${op.kernel[1]},${x[3]}])`,
        );
      }
      if (op.bias >= 0 && tensorLen(shapeOf(op.bias)) !== w[0])
        throw new ShapeError(op, `bias ${describeShape(shapeOf(op.bias))} does not match ${w[0]} output channels`);
      const oh = convOutSize(x[1]!, op.kernel[0], op.stride[0], op.dilation[0], op.pad.top, op.pad.bottom);
      const ow = convOutSize(x[2]!, op.kernel[1], op.stride[1], op.dilation[1], op.pad.left, op.pad.right);
      if (oh < 1 || ow < 1) throw new ShapeError(op, `input ${describeShape(x)} too small for the kernel`);
      return [[1, oh, ow, w[0]!]];
    }
    case 'dwconv2d': {
      need4D(op, x, 'input');
      const w = shapeOf(op.weights);
      const oc = x[3]! * op.depthMultiplier;
      if (w.length !== 4 || w[0] !== 1 || w[1] !== op.kernel[0] || w[2] !== op.kernel[1] || w[3] !== oc) {
        throw new ShapeError(
          op,
          `weights ${describeShape(w)} do not fit a ${op.kernel.join('x')} depthwise kernel over input ${describeShape(x)} (want [1,${op.kernel[0]},${op.kernel[1]},${oc}])`,
        );
      }
      if (op.bias >= 0 && tensorLen(shapeOf(op.bias)) !== oc)
        throw new ShapeError(op, `bias ${describeShape(shapeOf(op.bias))} does not match ${oc} channels`);
      const oh = convOutSize(x[1]!, op.kernel[0], op.stride[0], op.dilation[0], op.pad.top, op.pad.bottom);
      const ow = convOutSize(x[2]!, op.kernel[1], op.stride[1], op.dilation[1], op.pad.left, op.pad.right);
      if (oh < 1 || ow < 1) throw new ShapeError(op, `input ${describeShape(x)} too small for the kernel`);
      return [[1, oh, ow, oc]];
    }
    case 'add': {
      if (ins.length !== 2) throw new ShapeError(op, `needs 2 inputs, got ${ins.length}`);
      const y = ins[1]!;
      if (x.length !== y.length || x.some((d, i) => d !== y[i])) {
        throw new ShapeError(
          op,
          `input shapes differ: ${describeShape(x)} vs ${describeShape(y)} (broadcasting is not supported)`,
        );
      }
      return [x.slice()];
    }
    case 'global_avgpool':
      need4D(op, x, 'input');
      return [op.keepDims ? [1, 1, 1, x[3]!] : [1, x[3]!]];
    case 'avgpool': {
      need4D(op, x, 'input');
      const oh = convOutSize(x[1]!, op.kernel[0], op.stride[0], 1, op.pad.top, op.pad.bottom);
      const ow = convOutSize(x[2]!, op.kernel[1], op.stride[1], 1, op.pad.left, op.pad.right);
      if (oh < 1 || ow < 1)
        throw new ShapeError(op, `input ${describeShape(x)} too small for a ${op.kernel.join('x')} pool`);
      return [[1, oh, ow, x[3]!]];
    }
    case 'fully_connected': {
      const w = shapeOf(op.weights);
      const k = tensorLen(x);
      if (w.length !== 2 || w[1] !== k)
        throw new ShapeError(op, `weights ${describeShape(w)} do not fit input ${describeShape(x)} (want [N,${k}])`);
      if (op.bias >= 0 && tensorLen(shapeOf(op.bias)) !== w[0])
        throw new ShapeError(op, `bias ${describeShape(shapeOf(op.bias))} does not match ${w[0]} outputs`);
      return [[1, w[0]!]];
    }
    case 'softmax':
    case 'quantize':
    case 'dequantize':
      return [x.slice()];
    case 'reshape': {
      // The target shape is whatever the output tensor declares; it must hold the same number of elements.
      return [x.slice()];
    }
    case 'concat': {
      const axis = op.axis < 0 ? op.axis + x.length : op.axis;
      if (axis < 0 || axis >= x.length) throw new ShapeError(op, `axis ${op.axis} out of range for rank ${x.length}`);
      const out = x.slice();
      out[axis] = 0;
      for (const s of ins) {
        if (s.length !== x.length || s.some((d, i) => i !== axis && d !== x[i])) {
          throw new ShapeError(op, `inputs ${ins.map(describeShape).join(', ')} differ outside axis ${axis}`);
        }
        out[axis]! += s[axis]!;
      }
      return [out];
    }
    case 'resize_bilinear':
      need4D(op, x, 'input');
      return [[1, op.size[0], op.size[1], x[3]!]];
    case 'resize_argmax':
      need4D(op, x, 'input');
      return [[1, op.size[0], op.size[1]]];
    case 'argmax': {
      const axis = op.axis < 0 ? op.axis + x.length : op.axis;
      if (axis < 0 || axis >= x.length) throw new ShapeError(op, `axis ${op.axis} out of range for rank ${x.length}`);
      return [x.filter((_, i) => i !== axis)];
    }
  }
}

/** Dtype of the class ids a resize_argmax over `classes` classes writes: one byte when they fit. */
export function classIdDtype(classes: number): 'u8' | 'i32' {
  return classes <= 256 ? 'u8' : 'i32';
}

function tensorLen(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
