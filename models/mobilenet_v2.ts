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
import type { DType, Graph } from '../planner/ir.js';
import { Layers } from './layers.js';

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

/** Round channels to a multiple of `divisor`, at least `minValue`, never below 90% of the target (TF-slim `_make_divisible`). */
export function makeDivisible(value: number, divisor = 8, minValue = divisor): number {
  let v = Math.max(minValue, Math.floor((value + divisor / 2) / divisor) * divisor);
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

/**
 * Where each MobileNetV2 layer sits in a graph built by addMobileNetV2Backbone.
 * Block i is `expanded_conv_i` (TF-slim `layer_{i+2}`; `layer_1` is the first conv).
 */
export interface MobileNetV2Endpoints {
  input: number;
  /** Output of the first conv (3x3/2). */
  stem: number;
  /** Output of each of the 17 inverted residual blocks. */
  blocks: number[];
  /** Output of each block's 1x1 expand conv (TF-slim `layer_{i+2}/expansion_output`); -1 for block 0, which has none (t = 1). */
  expansions: number[];
  /** Output of the last 1x1 conv (`Conv_1`, TF-slim `layer_19`), or -1 when it was not built. */
  lastConv: number;
}

export interface MobileNetV2BackboneOptions {
  alpha?: number;
  resolution?: number;
  /**
   * Largest ratio of input to feature-map size (a power of two, 2..32; default 32 = the plain network).
   * Past it, strided blocks run at stride 1 and later depthwise convs are dilated instead, following
   * TF-slim `mobilenet.py` (DeepLab's atrous MobileNetV2): the block that reaches the limit keeps rate r
   * and stride 1, and every later block uses r times its would-be stride.
   */
  outputStride?: number;
  /** Channels of the last 1x1 conv; 0 to stop after the last block (DeepLab uses that 320-channel map). */
  lastConvChannels?: number;
  /** Fewest channels of a width-scaled layer (TF-slim `min_depth`; default 8, the TF object-detection API uses 16). */
  minDepth?: number;
  /**
   * Width-scaled layers are rounded to multiples of this (TF-slim `divisible_by`, default 8). TF DeepLab
   * builds its depth-multiplier < 1 models with 1 (and min_depth 1): 24·0.5 stays 12 there.
   */
  divisibleBy?: number;
}

/** Adds the MobileNetV2 feature extractor (Table 2) to `layers`' builder; returns its endpoints. */
export function addMobileNetV2Backbone(layers: Layers, options: MobileNetV2BackboneOptions = {}): MobileNetV2Endpoints {
  const alpha = options.alpha ?? 1.0;
  const res = options.resolution ?? 224;
  const outputStride = options.outputStride ?? 32;
  const lastC = options.lastConvChannels ?? 0;
  const divisibleBy = options.divisibleBy ?? 8;
  const minDepth = options.minDepth ?? divisibleBy;
  if (!(alpha > 0 && alpha <= 2)) throw new Error(`MobileNetV2: width multiplier ${alpha} is outside (0, 2]`);
  if (!Number.isInteger(res) || res < 32 || res > 1024)
    throw new Error(`MobileNetV2: input resolution ${res} must be an integer in 32..1024`);
  if (![2, 4, 8, 16, 32].includes(outputStride))
    throw new Error(`MobileNetV2: output stride ${outputStride} must be one of 2, 4, 8, 16, 32`);

  // TF-slim's output_stride rule: stride and dilation rate of the next strided layer.
  let currentStride = 1;
  let rate = 1;
  const place = (s: number): { stride: number; dilation: number } => {
    if (currentStride === outputStride) {
      const dilation = rate;
      rate *= s;
      return { stride: 1, dilation };
    }
    currentStride *= s;
    return { stride: s, dilation: 1 };
  };

  const input = layers.input('input', [1, res, res, 3]);
  let inC = makeDivisible(32 * alpha, divisibleBy, minDepth);
  const first = place(2);
  const stem = layers.conv('Conv', input, inC, { kernel: 3, stride: first.stride, act: 'relu6' });
  let x = stem;
  const blocks: number[] = [];
  const expansions: number[] = [];
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    const outC = makeDivisible(c * alpha, divisibleBy, minDepth);
    for (let i = 0; i < n; i++) {
      const { stride, dilation } = place(i === 0 ? s : 1);
      const block = blocks.length;
      const name = block === 0 ? 'expanded_conv' : `expanded_conv_${block}`;
      let h = x;
      // TF-slim expand_input(t): the expansion is rounded to a multiple of 8 whatever divisible_by is.
      if (t !== 1) h = layers.conv(`${name}/expand`, h, makeDivisible(inC * t), { act: 'relu6' });
      expansions.push(t !== 1 ? h : -1);
      h = layers.depthwise(`${name}/depthwise`, h, { stride, dilation, act: 'relu6' });
      h = layers.conv(`${name}/project`, h, outC);
      if (stride === 1 && inC === outC) h = layers.add(`${name}/add`, x, h);
      x = h;
      inC = outC;
      blocks.push(x);
    }
  }
  const lastConv = lastC > 0 ? layers.conv('Conv_1', x, lastC, { act: 'relu6' }) : -1;
  return { input, stem, blocks, expansions, lastConv };
}

/** Channels of MobileNetV2's last 1x1 conv at width `alpha` (kept at 1280 below 1, paper Section 6.1). */
export function mobileNetV2LastChannels(alpha: number): number {
  return alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
}

export function buildMobileNetV2(options: MobileNetV2Options = {}): Graph {
  const alpha = options.alpha ?? 1.0;
  const res = options.resolution ?? 224;
  const classes = options.classes ?? 1000;
  const layers = new Layers(new GraphBuilder(`mobilenet_v2_${alpha}_${res}`), options.dtype ?? 'f32');
  const net = addMobileNetV2Backbone(layers, {
    alpha,
    resolution: res,
    lastConvChannels: mobileNetV2LastChannels(alpha),
  });
  let x = layers.globalAvgPool('avgpool', net.lastConv, false);
  if (classes > 0) {
    x = layers.fullyConnected('Logits', x, classes);
    if (options.softmax ?? true) x = layers.softmax('Predictions', x);
  }
  layers.g.output(x);
  return layers.g.finish();
}
