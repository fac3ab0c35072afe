/**
 * Layer helpers shared by the model builders. Each call adds one IR op through a
 * GraphBuilder, creating its weight and bias constants first (in that order) and
 * naming them `<name>/weights`, `<name>/bias`, output `<name>:0`. Convolutions
 * use TF 'SAME' padding (planner/shapes.ts samePadding), dilation included.
 *
 * BatchNorm is folded into the bias, as TFLite files have it, so every conv and
 * depthwise conv carries a bias of its output width.
 */
import type { GraphBuilder, OutputSpec } from '../planner/builder.js';
import type { Activation, DType, Quantization } from '../planner/ir.js';
import { samePadding } from '../planner/shapes.js';

export interface ConvOptions {
  kernel?: number;
  stride?: number;
  dilation?: number;
  act?: Activation;
}

export interface DepthwiseOptions extends ConvOptions {
  /** Output channels per input channel (TF `depth_multiplier`). */
  multiplier?: number;
}

export class Layers {
  /** Placeholder quantization of quantized builds: these graphs are for planning (sizes), not for running. */
  private readonly quant: Quantization | undefined;
  private readonly weightDType: DType;
  private readonly biasDType: DType;

  constructor(
    readonly g: GraphBuilder,
    /** Activation dtype: 'f32', or 'u8'/'i8' to size every activation at 1 byte. */
    readonly dtype: DType = 'f32',
  ) {
    this.quant = dtype === 'f32' ? undefined : { scale: [1], zeroPoint: [0], axis: 0 };
    this.weightDType = dtype === 'f32' ? 'f32' : dtype === 'i8' ? 'i8' : 'u8';
    this.biasDType = dtype === 'f32' ? 'f32' : 'i32';
  }

  private out(name: string): OutputSpec {
    return { name: `${name}:0`, dtype: this.dtype, ...(this.quant ? { quant: this.quant } : {}) };
  }

  shape(x: number): number[] {
    return this.g.tensor(x).shape;
  }

  channels(x: number): number {
    const s = this.shape(x);
    return s[s.length - 1]!;
  }

  input(name: string, shape: number[]): number {
    return this.g.input(name, shape, this.dtype, this.quant);
  }

  conv(name: string, x: number, outC: number, o: ConvOptions = {}): number {
    const k = o.kernel ?? 1;
    const s = o.stride ?? 1;
    const d = o.dilation ?? 1;
    const [, h, w, inC] = this.shape(x);
    const weights = this.g.constant(`${name}/weights`, [outC, k, k, inC!], this.weightDType, this.quant);
    const bias = this.g.constant(`${name}/bias`, [outC], this.biasDType);
    const pad = samePadding(h!, w!, [k, k], [s, s], [d, d]);
    return this.g.op(
      {
        kind: 'conv2d',
        name,
        inputs: [x],
        kernel: [k, k],
        stride: [s, s],
        dilation: [d, d],
        pad,
        act: o.act ?? 'none',
        weights,
        bias,
      },
      this.out(name),
    );
  }

  depthwise(name: string, x: number, o: DepthwiseOptions = {}): number {
    const k = o.kernel ?? 3;
    const s = o.stride ?? 1;
    const d = o.dilation ?? 1;
    const m = o.multiplier ?? 1;
    const [, h, w, c] = this.shape(x);
    const weights = this.g.constant(`${name}/weights`, [1, k, k, c! * m], this.weightDType, this.quant);
    const bias = this.g.constant(`${name}/bias`, [c! * m], this.biasDType);
    const pad = samePadding(h!, w!, [k, k], [s, s], [d, d]);
    return this.g.op(
      {
        kind: 'dwconv2d',
        name,
        inputs: [x],
        kernel: [k, k],
        stride: [s, s],
        dilation: [d, d],
        pad,
        act: o.act ?? 'none',
        depthMultiplier: m,
        weights,
        bias,
      },
      this.out(name),
    );
  }

  add(name: string, a: number, b: number, act: Activation = 'none'): number {
    return this.g.op({ kind: 'add', name, inputs: [a, b], act }, this.out(name));
  }

  /** Sums same-shaped tensors with a chain of pairwise adds (`<name>`, `<name>_1`, ...); `act` goes on the last add. One tensor is returned as it is. */
  sum(name: string, xs: number[], act: Activation = 'none'): number {
    if (xs.length === 0) throw new Error(`sum '${name}': no inputs`);
    let acc = xs[0]!;
    for (let i = 1; i < xs.length; i++)
      acc = this.add(i === 1 ? name : `${name}_${i - 1}`, acc, xs[i]!, i === xs.length - 1 ? act : 'none');
    return acc;
  }

  concat(name: string, xs: number[], axis = 3): number {
    return this.g.op({ kind: 'concat', name, inputs: xs, axis, act: 'none' }, this.out(name));
  }

  avgPool(name: string, x: number, kernel: number, stride: number): number {
    const [, h, w] = this.shape(x);
    const pad = samePadding(h!, w!, [kernel, kernel], [stride, stride]);
    return this.g.op(
      { kind: 'avgpool', name, inputs: [x], kernel: [kernel, kernel], stride: [stride, stride], pad, act: 'none' },
      this.out(name),
    );
  }

  globalAvgPool(name: string, x: number, keepDims: boolean): number {
    return this.g.op({ kind: 'global_avgpool', name, inputs: [x], keepDims }, this.out(name));
  }

  fullyConnected(name: string, x: number, outN: number, act: Activation = 'none'): number {
    const inK = this.shape(x).reduce((a, b) => a * b, 1);
    const weights = this.g.constant(`${name}/weights`, [outN, inK], this.weightDType, this.quant);
    const bias = this.g.constant(`${name}/bias`, [outN], this.biasDType);
    return this.g.op({ kind: 'fully_connected', name, inputs: [x], act, weights, bias }, this.out(name));
  }

  softmax(name: string, x: number): number {
    return this.g.op({ kind: 'softmax', name, inputs: [x], beta: 1 }, this.out(name));
  }

  reshape(name: string, x: number, shape: number[]): number {
    return this.g.op({ kind: 'reshape', name, inputs: [x] }, { ...this.out(name), shape });
  }

  resizeBilinear(name: string, x: number, size: [number, number], alignCorners: boolean): number {
    return this.g.op(
      { kind: 'resize_bilinear', name, inputs: [x], size, alignCorners, halfPixelCenters: false },
      this.out(name),
    );
  }

  /** Arg-max over `axis`; the output is int32 class ids. */
  argmax(name: string, x: number, axis: number): number {
    return this.g.op({ kind: 'argmax', name, inputs: [x], axis }, { name: `${name}:0` });
  }
}
