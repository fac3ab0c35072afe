/**
 * Small quantized MobileNetV2-like networks with random weights, for the integer
 * executor tests: a 3x3/2 stem, inverted residual blocks (stride 1 or 2, dilation,
 * residual adds, expansion ratios that give odd channel counts), uint8 with per-tensor
 * weights (TF1) or int8 with per-channel weights (TF2), quantization chosen so that the
 * requantized values spread over the byte range (rounding and clamping both happen).
 * Optionally a DeepLab-style segmentation head instead of the classifier head: image
 * pooling (global average → 1x1 conv → bilinear resize back → QUANTIZE onto the other
 * branch's grid), concatenation with a 1x1 branch, projection, logits, bilinear resize to
 * the input size and ARG_MAX (int64 class ids, as TFLite files declare them).
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { Activation, DType, Quantization } from '../../planner/ir.js';
import { samePadding } from '../../planner/shapes.js';
import type { ConstData, LoadedModel } from '../../src/model.js';
import { randInts } from './helpers.js';

export interface QBlockSpec {
  expand: number;
  out: number;
  stride: number;
  dilation?: number;
}

export interface QNetSpec {
  dtype: 'u8' | 'i8';
  size: [number, number];
  stem: number;
  /** First block has no expansion conv (the stem is its expansion, as in MobileNetV2). */
  first: { out: number };
  blocks: QBlockSpec[];
  /** 1x1 conv + global average pool + fully connected + softmax head (classes), or none. */
  head?: { conv: number; classes: number };
  /** Segmentation head (see the file comment); `branch` channels per branch. */
  seg?: { branch: number; classes: number; alignCorners: boolean; halfPixelCenters: boolean };
  seed: number;
}

const q = (scale: number, zeroPoint: number): Quantization => ({ scale: [scale], zeroPoint: [zeroPoint], axis: 0 });

export function buildQNet(spec: QNetSpec): LoadedModel {
  const { dtype } = spec;
  const g = new GraphBuilder(`qnet-${dtype}`);
  const constants = new Map<number, ConstData>();
  let seed = spec.seed;
  const [qmin, qmax] = dtype === 'u8' ? [0, 255] : [-128, 127];
  const zAct = dtype === 'u8' ? 0 : -128; // ReLU6 outputs start at the zero point
  const zLin = dtype === 'u8' ? 128 : 0;
  const reluScale = 6 / 255;
  const inScale = 1 / 128;
  let x = g.input('input', [1, spec.size[0], spec.size[1], 3], dtype, q(inScale, dtype === 'u8' ? 128 : 0));
  const scaleOf = (id: number) => g.tensor(id).quant!.scale[0]!;
  const zpOf = (id: number) => g.tensor(id).quant!.zeroPoint[0]!;

  /** Weights [n, ...rest] with per-tensor (u8) or per-channel (i8) quantization; returns ids. */
  const weights = (
    name: string,
    shape: number[],
    channelAxis: number,
    K: number,
    sIn: number,
    sOut: number,
    gain = 1,
  ) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const channels = shape[channelAxis]!;
    const data =
      dtype === 'u8' ? Uint8Array.from(randInts(n, 0, 255, seed++)) : Int8Array.from(randInts(n, -127, 127, seed++));
    // Multiplier s_in·s_w/s_out ≈ 100 / (σ_x · σ_w · √K): outputs spread over about ±100.
    const target = (f: number) => (gain * f * 100) / (60 * 74 * Math.sqrt(K));
    const sw =
      dtype === 'u8'
        ? [(target(1) * sOut) / sIn]
        : randInts(channels, 70, 140, seed++).map((v) => (target(v / 100) * sOut) / sIn);
    const zw = dtype === 'u8' ? randInts(1, 90, 160, seed++) : new Array<number>(channels).fill(0);
    const w = g.constant(`${name}/w`, shape, dtype, {
      scale: sw.map(Math.fround),
      zeroPoint: zw,
      axis: dtype === 'u8' ? 0 : channelAxis,
    });
    constants.set(w, data);
    const outC = shape[channelAxis]!;
    const b = g.constant(`${name}/b`, [outC], 'i32', {
      scale: sw.map((s) => s * sIn),
      zeroPoint: new Array<number>(sw.length).fill(0),
      axis: 0,
    });
    constants.set(
      b,
      Int32Array.from(randInts(outC, -60 * 74 * Math.round(Math.sqrt(K)), 60 * 74 * Math.round(Math.sqrt(K)), seed++)),
    );
    return { w, b };
  };

  const conv = (
    name: string,
    input: number,
    outC: number,
    k: number,
    stride: number,
    act: Activation,
    outScale: number,
    outZ: number,
    gain = 1,
  ) => {
    const inC = g.tensor(input).shape[3]!;
    const [h, wd] = [g.tensor(input).shape[1]!, g.tensor(input).shape[2]!];
    const { w, b } = weights(name, [outC, k, k, inC], 0, k * k * inC, scaleOf(input), outScale, gain);
    const pad = k === 1 ? { top: 0, bottom: 0, left: 0, right: 0 } : samePadding(h, wd, [k, k], [stride, stride]);
    return g.op(
      {
        kind: 'conv2d',
        name,
        inputs: [input],
        kernel: [k, k],
        stride: [stride, stride],
        dilation: [1, 1],
        pad,
        act,
        weights: w,
        bias: b,
      },
      { dtype, quant: q(outScale, outZ) },
    );
  };
  const dw = (name: string, input: number, stride: number, dil: number) => {
    const C = g.tensor(input).shape[3]!;
    const [h, wd] = [g.tensor(input).shape[1]!, g.tensor(input).shape[2]!];
    const { w, b } = weights(name, [1, 3, 3, C], 3, 9, scaleOf(input), reluScale);
    const pad = samePadding(h, wd, [3, 3], [stride, stride], [dil, dil]);
    return g.op(
      {
        kind: 'dwconv2d',
        name,
        inputs: [input],
        kernel: [3, 3],
        stride: [stride, stride],
        dilation: [dil, dil],
        pad,
        act: 'relu6',
        depthMultiplier: 1,
        weights: w,
        bias: b,
      },
      { dtype, quant: q(reluScale, zAct) },
    );
  };
  const projScale = () => Math.fround(0.2 + randInts(1, 0, 100, seed++)[0]! / 500);

  x = conv('stem', x, spec.stem, 3, 2, 'relu6', reluScale, zAct);
  x = dw('block0/dw', x, 1, 1);
  x = conv('block0/project', x, spec.first.out, 1, 1, 'none', projScale(), zLin + randInts(1, -20, 20, seed++)[0]!);
  spec.blocks.forEach((b, i) => {
    const inp = x;
    let t = conv(`block${i + 1}/expand`, inp, b.expand, 1, 1, 'relu6', reluScale, zAct);
    t = dw(`block${i + 1}/dw`, t, b.stride, b.dilation ?? 1);
    t = conv(`block${i + 1}/project`, t, b.out, 1, 1, 'none', projScale(), zLin + randInts(1, -20, 20, seed++)[0]!);
    if (b.stride === 1 && b.out === g.tensor(inp).shape[3]) {
      const sY = Math.fround(Math.max(scaleOf(t), scaleOf(inp)) * 1.3);
      t = g.op(
        { kind: 'add', name: `block${i + 1}/add`, inputs: [t, inp], act: 'none' },
        { dtype, quant: q(sY, zLin + randInts(1, -10, 10, seed++)[0]!) },
      );
    }
    x = t;
  });
  if (spec.head) {
    x = conv('head/conv', x, spec.head.conv, 1, 1, 'relu6', reluScale, zAct);
    const s = g.tensor(x).shape;
    x = g.op(
      { kind: 'global_avgpool', name: 'head/pool', inputs: [x], keepDims: false },
      { dtype, quant: q(scaleOf(x), zpOf(x)), shape: [1, s[3]!] },
    );
    const K = s[3]!;
    const { w, b } = weights('head/fc', [spec.head.classes, K], 0, K, scaleOf(x), 0.1);
    x = g.op(
      { kind: 'fully_connected', name: 'head/fc', inputs: [x], act: 'none', weights: w, bias: b },
      { dtype, quant: q(0.1, zLin) },
    );
    x = g.op({ kind: 'softmax', name: 'head/softmax', inputs: [x], beta: 1 }, { dtype, quant: q(1 / 256, qmin) });
  }
  if (spec.seg) {
    const { branch, classes, alignCorners, halfPixelCenters } = spec.seg;
    const [, fh, fw] = g.tensor(x).shape as [number, number, number, number];
    const pooled = g.op(
      { kind: 'global_avgpool', name: 'seg/pool', inputs: [x], keepDims: true },
      { dtype, quant: q(scaleOf(x), zpOf(x)) },
    );
    const aspp = conv('seg/aspp0', x, branch, 1, 1, 'relu', Math.fround(reluScale * 1.5), zAct);
    let img = conv('seg/image_pooling', pooled, branch, 1, 1, 'relu', Math.fround(reluScale * 0.55), zAct);
    img = g.op(
      {
        kind: 'resize_bilinear',
        name: 'seg/image_resize',
        inputs: [img],
        size: [fh, fw],
        alignCorners,
        halfPixelCenters,
      },
      { dtype, quant: q(scaleOf(img), zpOf(img)) },
    );
    img = g.op(
      { kind: 'quantize', name: 'seg/requantize', inputs: [img] },
      { dtype, quant: q(scaleOf(aspp), zpOf(aspp)) },
    );
    let y = g.op(
      { kind: 'concat', name: 'seg/concat', inputs: [img, aspp], axis: 3, act: 'none' },
      { dtype, quant: q(scaleOf(aspp), zpOf(aspp)) },
    );
    y = conv('seg/projection', y, branch, 1, 1, 'relu', reluScale, zAct);
    // Low gain: the logits of different classes overlap (the relu inputs and the weight zero
    // points would otherwise push a few classes to the ends of the byte range everywhere).
    y = conv('seg/logits', y, classes, 1, 1, 'none', 0.2, zLin - 10, 0.08);
    y = g.op(
      { kind: 'resize_bilinear', name: 'seg/resize', inputs: [y], size: spec.size, alignCorners, halfPixelCenters },
      { dtype, quant: q(scaleOf(y), zpOf(y)) },
    );
    x = g.op({ kind: 'argmax', name: 'seg/argmax', inputs: [y], axis: 3 }, { dtype: 'i64' });
  }
  void qmax;
  g.output(x);
  const graph = g.finish();
  return {
    source: graph.name,
    format: 'tflite',
    graph,
    constants,
    input: {
      height: spec.size[0],
      width: spec.size[1],
      channels: 3,
      normalization: { kind: 'quantized', scale: inScale, zeroPoint: dtype === 'u8' ? 128 : 0 },
    },
  };
}

export type { DType };
