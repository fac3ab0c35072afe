/**
 * MobileNetV2 architecture builder (Sandler et al. 2018, Table 2).
 *
 * conv 3x3/2 (32) → 17 inverted residual blocks (t, c, n, s) → conv 1x1 (1280)
 * → global average pool → classifier. Channels scale with the width multiplier
 * and are rounded to multiples of 8; the last conv stays 1280 for multipliers
 * below 1 (paper Section 6.1, "we apply the width multiplier to all layers
 * except the very last convolutional layer" for multipliers < 1).
 */
import { GraphBuilder } from '../planner/builder.js';
import type { DType, Graph, Quantization } from '../planner/ir.js';
import { samePadding } from '../planner/shapes.js';

/** (expansion t, output channels c, repeats n, first stride s), paper Table 2. */
export const MOBILENET_V2_BLOCKS: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export const MOBILENET_V2_ALPHAS = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4] as const;

/** Round channels to a multiple of `divisor`, never below 90% of the target (TF-slim `_make_divisible`). */
export function makeDivisible(value: number, divisor = 8): number {
  let v = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (v < 0.9 * value) v += divisor;
  return v;
}

export interface MobileNetV2Options {
  alpha?: number;
  resolution?: number;
  /** Classifier outputs (1000; TF-slim checkpoints use 1001 with a background class). 0 = no classifier. */
  classes?: number;
  /** Activation dtype: 'f32', or 'u8' to size every activation at 1 byte. */
  dtype?: DType;
  /** Append a softmax after the classifier. */
  softmax?: boolean;
}

export function buildMobileNetV2(options: MobileNetV2Options = {}): Graph {
  const alpha = options.alpha ?? 1.0;
  const res = options.resolution ?? 224;
  const classes = options.classes ?? 1000;
  const dtype = options.dtype ?? 'f32';
  if (!(alpha > 0 && alpha <= 2)) throw new Error(`MobileNetV2: width multiplier ${alpha} is outside (0, 2]`);
  if (!Number.isInteger(res) || res < 32 || res > 1024) throw new Error(`MobileNetV2: input resolution ${res} must be an integer in 32..1024`);
  const wdtype: DType = dtype === 'f32' ? 'f32' : dtype === 'i8' ? 'i8' : 'u8';
  const quant: Quantization | undefined = dtype === 'f32' ? undefined : { scale: [1], zeroPoint: [0], axis: 0 };
  const g = new GraphBuilder(`mobilenet_v2_${alpha}_${res}`);
  const out = { dtype, ...(quant ? { quant } : {}) };

  const conv = (name: string, x: number, inC: number, outC: number, k: number, s: number, act: 'relu6' | 'none'): number => {
    const t = g.tensor(x);
    const w = g.constant(`${name}/weights`, [outC, k, k, inC], wdtype, quant);
    const b = g.constant(`${name}/bias`, [outC], dtype === 'f32' ? 'f32' : 'i32');
    const pad = samePadding(t.shape[1]!, t.shape[2]!, [k, k], [s, s]);
    return g.op({ kind: 'conv2d', name, inputs: [x], kernel: [k, k], stride: [s, s], dilation: [1, 1], pad, act, weights: w, bias: b }, { name: `${name}:0`, ...out });
  };
  const dw = (name: string, x: number, c: number, s: number): number => {
    const t = g.tensor(x);
    const w = g.constant(`${name}/weights`, [1, 3, 3, c], wdtype, quant);
    const b = g.constant(`${name}/bias`, [c], dtype === 'f32' ? 'f32' : 'i32');
    const pad = samePadding(t.shape[1]!, t.shape[2]!, [3, 3], [s, s]);
    return g.op({ kind: 'dwconv2d', name, inputs: [x], kernel: [3, 3], stride: [s, s], dilation: [1, 1], pad, act: 'relu6', depthMultiplier: 1, weights: w, bias: b }, { name: `${name}:0`, ...out });
  };

  const input = g.input('input', [1, res, res, 3], dtype, quant);
  let inC = makeDivisible(32 * alpha);
  let x = conv('Conv', input, 3, inC, 3, 2, 'relu6');
  let block = 0;
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    const outC = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const name = block === 0 ? 'expanded_conv' : `expanded_conv_${block}`;
      const expC = inC * t;
      let h = x;
      if (t !== 1) h = conv(`${name}/expand`, h, inC, expC, 1, 1, 'relu6');
      h = dw(`${name}/depthwise`, h, expC, stride);
      h = conv(`${name}/project`, h, expC, outC, 1, 1, 'none');
      if (stride === 1 && inC === outC) h = g.op({ kind: 'add', name: `${name}/add`, inputs: [x, h], act: 'none' }, { name: `${name}/add:0`, ...out });
      x = h;
      inC = outC;
      block++;
    }
  }
  const lastC = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = conv('Conv_1', x, inC, lastC, 1, 1, 'relu6');
  x = g.op({ kind: 'global_avgpool', name: 'avgpool', inputs: [x], keepDims: false }, { name: 'avgpool:0', ...out });
  if (classes > 0) {
    const w = g.constant('Logits/weights', [classes, lastC], wdtype, quant);
    const b = g.constant('Logits/bias', [classes], dtype === 'f32' ? 'f32' : 'i32');
    x = g.op({ kind: 'fully_connected', name: 'Logits', inputs: [x], act: 'none', weights: w, bias: b }, { name: 'Logits:0', ...out });
    if (options.softmax ?? true) x = g.op({ kind: 'softmax', name: 'Predictions', inputs: [x], beta: 1 }, { name: 'Predictions:0', ...out });
  }
  g.output(x);
  return g.finish();
}
