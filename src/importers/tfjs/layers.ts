/**
 * Keras layers → lowwater's intermediate "layer ops": one record per layer
 * application, with weights already in lowwater's layouts (float64, before
 * any folding). Shape-dependent choices (SAME padding, pool covering the
 * input, Reshape's -1) are made later, at emission, when shapes are known.
 */
import type { Activation, Padding } from '../../../planner/ir.js';
import { describeLayer, type KerasLayer, type LayerNode } from './topology.js';
import { TfjsModelError, type LazyWeight } from './weights.js';

interface LopBase {
  /** The Keras layer this op comes from (the first one, when layers were folded into it). */
  layer: KerasLayer;
  ins: string[];
  out: string;
  /** Appended to the op name (an activation split off its layer, e.g. Dense's softmax). */
  nameSuffix?: string;
}

export interface ConvLop extends LopBase {
  kind: 'conv';
  depthwise: boolean;
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** 'same' is resolved with the TF rule at emission; explicit otherwise ('valid' = zeros, or a folded ZeroPadding2D). */
  padding: 'same' | Padding;
  /** Conv: OHWI [O,kh,kw,I]; depthwise: [1,kh,kw,C·m]. */
  w: Values;
  wShape: [number, number, number, number];
  bias: Values | null;
  depthMultiplier: number;
  act: Activation;
  /** Names of layers folded into this op (BatchNormalization, ZeroPadding2D, ReLU), for messages. */
  folded: string[];
}

export interface BatchNormLop extends LopBase {
  kind: 'batchnorm';
  channels: number;
  gamma: Values;
  beta: Values;
  mean: Values;
  variance: Values;
  epsilon: number;
}

export interface ActLop extends LopBase {
  kind: 'act';
  act: 'relu' | 'relu6';
}

export interface SoftmaxLop extends LopBase {
  kind: 'softmax';
}

export interface AddLop extends LopBase {
  kind: 'add';
  act: Activation;
}

export interface ZeroPadLop extends LopBase {
  kind: 'zeropad';
  pad: Padding;
}

export interface GlobalPoolLop extends LopBase {
  kind: 'global_avgpool';
  keepDims: boolean;
}

export interface AvgPoolLop extends LopBase {
  kind: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  padding: 'same' | 'valid';
}

export interface ReshapeLop extends LopBase {
  kind: 'reshape';
  /** Target shape without the batch dimension (-1 allowed once); null = Flatten. */
  target: number[] | null;
}

export interface DenseLop extends LopBase {
  kind: 'dense';
  /** [N, K] (transposed from Keras's [K, N]). */
  w: Values;
  units: number;
  inFeatures: number;
  bias: Values | null;
  act: Activation;
}

export type Lop =
  | ConvLop
  | BatchNormLop
  | ActLop
  | SoftmaxLop
  | AddLop
  | ZeroPadLop
  | GlobalPoolLop
  | AvgPoolLop
  | ReshapeLop
  | DenseLop;

export const SUPPORTED_LAYERS = [
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'GlobalAveragePooling2D',
  'AveragePooling2D',
  'Flatten',
  'Reshape',
  'Dropout',
  'Dense',
] as const;

/** Weight values computed when asked for (after planning), in float64. */
export type Values = () => Float64Array;

export class WeightLookup {
  private readonly used = new Set<string>();
  constructor(
    private readonly weights: Map<string, LazyWeight>,
    private readonly source: string,
  ) {}

  /** The weight `<layer>/<param>` (or a unique `…/<layer>/<param>`, as nested models may store it). */
  find(layer: KerasLayer, param: string): LazyWeight | undefined {
    const name = `${layer.name}/${param}`;
    const w = this.weights.get(name);
    if (w) return w;
    const cands = [...this.weights.values()].filter((x) => x.name.endsWith(`/${name}`));
    if (cands.length > 1)
      throw new TfjsModelError(
        this.source,
        `${describeLayer(layer)}: weight '${name}' is ambiguous: ${cands.map((c) => c.name).join(', ')}`,
      );
    return cands[0];
  }

  /** The weight's values in float64, read when called; its shape is checked now against the layer config's. */
  get(layer: KerasLayer, param: string, shape: number[]): Values {
    const name = `${layer.name}/${param}`;
    const w = this.find(layer, param);
    if (!w)
      throw new TfjsModelError(this.source, `${describeLayer(layer)}: weight '${name}' is not in the weights manifest`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new TfjsModelError(
        this.source,
        `${describeLayer(layer)}: weight '${w.name}' has shape [${w.shape.join(',')}], the layer config needs [${shape.join(',')}]`,
      );
    }
    this.used.add(w.name);
    return () => Float64Array.from(w.read());
  }

  unused(): string[] {
    return [...this.weights.keys()].filter((n) => !this.used.has(n));
  }
}

type Cfg = Record<string, unknown>;

function pair(cfg: Cfg, key: string, dflt: number | null, fail: (m: string) => never): [number, number] {
  const v = cfg[key] ?? dflt;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d > 0)) return [v[0], v[1]];
  return fail(`'${key}' must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
}

function activationOf(name: unknown, fail: (m: string) => never): Activation | 'softmax' {
  switch (name ?? 'linear') {
    case 'linear':
      return 'none';
    case 'relu':
      return 'relu';
    case 'relu6':
      return 'relu6';
    case 'softmax':
      return 'softmax';
    default:
      return fail(`activation '${String(name)}' is not supported (linear, relu, relu6, softmax)`);
  }
}

/** ZeroPadding2D `padding`: int, [h, w] or [[top, bottom], [left, right]]. */
function zeroPadding(v: unknown, fail: (m: string) => never): Padding {
  const nat = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 0;
  if (nat(v)) return { top: v, bottom: v, left: v, right: v };
  if (Array.isArray(v) && v.length === 2) {
    if (nat(v[0]) && nat(v[1])) return { top: v[0], bottom: v[0], left: v[1], right: v[1] };
    const [h, w] = v as unknown[];
    if (Array.isArray(h) && Array.isArray(w) && h.length === 2 && w.length === 2 && [...h, ...w].every(nat)) {
      return { top: h[0], bottom: h[1], left: w[0], right: w[1] };
    }
  }
  return fail(`padding ${JSON.stringify(v)} is not an int, [h, w] or [[top, bottom], [left, right]]`);
}

/** Turns one layer application into layer ops (an activation of Conv2D/Dense becomes a separate op, fused later). */
export function lowerLayer(node: LayerNode, weights: WeightLookup, source: string): Lop[] {
  const { layer, inputs, output } = node;
  const cfg = layer.config;
  const fail: (m: string) => never = (m) => {
    throw new TfjsModelError(source, `${describeLayer(layer)}: ${m}`);
  };
  const one = (): string => {
    if (inputs.length !== 1) fail(`expects 1 input, got ${inputs.length}`);
    return inputs[0]!;
  };
  const channelsLast = (): void => {
    const f = cfg.data_format;
    if (f !== undefined && f !== null && f !== 'channels_last')
      fail(`data_format '${String(f)}' is not supported (channels_last only)`);
  };
  /** A layer's own activation: fused later if relu/relu6, a softmax op otherwise. */
  const withActivation = (mk: (out: string) => Lop, act: Activation | 'softmax'): Lop[] => {
    if (act === 'none') return [mk(output)];
    const pre = `${output}#pre`;
    const tail: Lop =
      act === 'softmax'
        ? { kind: 'softmax', layer, ins: [pre], out: output, nameSuffix: '/softmax' }
        : { kind: 'act', layer, ins: [pre], out: output, act };
    return [mk(pre), tail];
  };

  switch (layer.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      channelsLast();
      const x = one();
      const depthwise = layer.className === 'DepthwiseConv2D';
      const kernel = pair(cfg, 'kernel_size', null, fail);
      const stride = pair(cfg, 'strides', 1, fail);
      const dilation = pair(cfg, 'dilation_rate', 1, fail);
      if ((stride[0] > 1 || stride[1] > 1) && (dilation[0] > 1 || dilation[1] > 1))
        fail('strides > 1 together with dilation_rate > 1 (Keras does not allow it either)');
      if (cfg.groups !== undefined && cfg.groups !== 1) fail(`groups=${String(cfg.groups)} is not supported`);
      const pad = cfg.padding ?? 'valid';
      if (pad !== 'same' && pad !== 'valid') fail(`padding '${String(pad)}' is not supported ('same' or 'valid')`);
      const act = activationOf(cfg.activation, fail);
      const useBias = cfg.use_bias !== false;
      const [kh, kw] = kernel;
      let w: Values;
      let wShape: [number, number, number, number];
      let depthMultiplier = 1;
      let outC: number;
      if (depthwise) {
        depthMultiplier = (cfg.depth_multiplier ?? 1) as number;
        if (!Number.isInteger(depthMultiplier) || depthMultiplier < 1)
          fail(`depth_multiplier ${String(cfg.depth_multiplier)} is not a positive integer`);
        const found = findShape(weights, layer, 'depthwise_kernel');
        const c = found?.[2] ?? fail("weight 'depthwise_kernel' is not in the weights manifest");
        // Keras [kh, kw, C, m] flattened is already lowwater's [1, kh, kw, C·m] (channel i·m + j reads input i).
        w = weights.get(layer, 'depthwise_kernel', [kh, kw, c, depthMultiplier]);
        outC = c * depthMultiplier;
        wShape = [1, kh, kw, outC];
      } else {
        const filters = cfg.filters as number;
        if (!Number.isInteger(filters) || filters < 1) fail(`filters ${String(cfg.filters)} is not a positive integer`);
        const found = findShape(weights, layer, 'kernel');
        const inC = found?.[2] ?? fail("weight 'kernel' is not in the weights manifest");
        const hwio = weights.get(layer, 'kernel', [kh, kw, inC, filters]);
        // Keras HWIO [kh, kw, I, O] → OHWI [O, kh, kw, I].
        w = () => {
          const src = hwio();
          const out = new Float64Array(src.length);
          for (let y = 0; y < kh; y++)
            for (let xx = 0; xx < kw; xx++)
              for (let i = 0; i < inC; i++)
                for (let o = 0; o < filters; o++)
                  out[((o * kh + y) * kw + xx) * inC + i] = src[((y * kw + xx) * inC + i) * filters + o]!;
          return out;
        };
        outC = filters;
        wShape = [filters, kh, kw, inC];
      }
      const bias = useBias ? weights.get(layer, 'bias', [outC]) : null;
      const padding: 'same' | Padding = pad === 'same' ? 'same' : { top: 0, bottom: 0, left: 0, right: 0 };
      return withActivation(
        (out) => ({
          kind: 'conv',
          layer,
          ins: [x],
          out,
          depthwise,
          kernel,
          stride,
          dilation,
          padding,
          w,
          wShape,
          bias,
          depthMultiplier,
          act: 'none',
          folded: [],
        }),
        act,
      );
    }
    case 'BatchNormalization': {
      const x = one();
      const axis = cfg.axis ?? -1;
      const ax = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
      if (ax !== -1 && ax !== 3) fail(`axis ${JSON.stringify(axis)} is not supported (the channel axis, -1 or 3)`);
      const epsilon = (cfg.epsilon ?? 1e-3) as number;
      if (typeof epsilon !== 'number' || !(epsilon >= 0))
        fail(`epsilon ${String(cfg.epsilon)} is not a non-negative number`);
      const c =
        findShape(weights, layer, 'moving_mean')?.[0] ?? fail("weight 'moving_mean' is not in the weights manifest");
      const mean = weights.get(layer, 'moving_mean', [c]);
      const variance = weights.get(layer, 'moving_variance', [c]);
      const gamma = cfg.scale === false ? () => new Float64Array(c).fill(1) : weights.get(layer, 'gamma', [c]);
      const beta = cfg.center === false ? () => new Float64Array(c) : weights.get(layer, 'beta', [c]);
      return [{ kind: 'batchnorm', layer, ins: [x], out: output, channels: c, gamma, beta, mean, variance, epsilon }];
    }
    case 'ReLU': {
      const x = one();
      const slope = cfg.negative_slope ?? 0;
      const threshold = cfg.threshold ?? 0;
      if (slope !== 0 || threshold !== 0)
        fail(`negative_slope ${String(slope)} / threshold ${String(threshold)} are not supported (0 only)`);
      const max = cfg.max_value ?? null;
      if (max !== null && max !== 6) fail(`max_value ${String(max)} is not supported (none or 6)`);
      return [{ kind: 'act', layer, ins: [x], out: output, act: max === 6 ? 'relu6' : 'relu' }];
    }
    case 'Activation': {
      const x = one();
      const act = activationOf(cfg.activation, fail);
      if (act === 'none') fail('linear activation should have been removed as an identity');
      if (act === 'softmax') return [{ kind: 'softmax', layer, ins: [x], out: output }];
      return [{ kind: 'act', layer, ins: [x], out: output, act }];
    }
    case 'Add':
      if (inputs.length < 2) fail(`expects at least 2 inputs, got ${inputs.length}`);
      return [{ kind: 'add', layer, ins: inputs.slice(), out: output, act: 'none' }];
    case 'ZeroPadding2D':
      channelsLast();
      return [{ kind: 'zeropad', layer, ins: [one()], out: output, pad: zeroPadding(cfg.padding ?? 1, fail) }];
    case 'GlobalAveragePooling2D':
      channelsLast();
      return [{ kind: 'global_avgpool', layer, ins: [one()], out: output, keepDims: cfg.keepdims === true }];
    case 'AveragePooling2D': {
      channelsLast();
      const kernel = pair(cfg, 'pool_size', 2, fail);
      const stride = cfg.strides === null || cfg.strides === undefined ? kernel : pair(cfg, 'strides', null, fail);
      const pad = cfg.padding ?? 'valid';
      if (pad !== 'same' && pad !== 'valid') fail(`padding '${String(pad)}' is not supported ('same' or 'valid')`);
      return [{ kind: 'avgpool', layer, ins: [one()], out: output, kernel, stride, padding: pad }];
    }
    case 'Flatten':
      channelsLast();
      return [{ kind: 'reshape', layer, ins: [one()], out: output, target: null }];
    case 'Reshape': {
      // tfjs serializes the free dimension (-1) as null.
      const raw = cfg.target_shape;
      const t = Array.isArray(raw) ? raw.map((d) => (d === null ? -1 : d)) : null;
      if (!t || t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || t.filter((d) => d === -1).length > 1) {
        return fail(
          `target_shape ${JSON.stringify(raw)} is not a list of positive integers with at most one free (-1) dimension`,
        );
      }
      return [{ kind: 'reshape', layer, ins: [one()], out: output, target: t as number[] }];
    }
    case 'Dense': {
      const x = one();
      const units = cfg.units as number;
      if (!Number.isInteger(units) || units < 1) fail(`units ${String(cfg.units)} is not a positive integer`);
      const act = activationOf(cfg.activation, fail);
      const k = findShape(weights, layer, 'kernel')?.[0] ?? fail("weight 'kernel' is not in the weights manifest");
      const kn = weights.get(layer, 'kernel', [k, units]);
      // Keras [K, N] → lowwater [N, K].
      const w = (): Float64Array => {
        const src = kn();
        const out = new Float64Array(src.length);
        for (let i = 0; i < k; i++) for (let n = 0; n < units; n++) out[n * k + i] = src[i * units + n]!;
        return out;
      };
      const bias = cfg.use_bias !== false ? weights.get(layer, 'bias', [units]) : null;
      return withActivation(
        (out) => ({ kind: 'dense', layer, ins: [x], out, w, units, inFeatures: k, bias, act: 'none' }),
        act,
      );
    }
    default:
      return fail(`layer class '${layer.className}' is not supported (supported: ${SUPPORTED_LAYERS.join(', ')})`);
  }
}

function findShape(weights: WeightLookup, layer: KerasLayer, param: string): number[] | undefined {
  return weights.find(layer, param)?.shape;
}
