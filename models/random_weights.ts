/**
 * Random constants for float32 graphs, to run any architecture at any width and
 * resolution without trained weights (e.g. to compare chunked with plain execution).
 *
 * - Deterministic: each constant tensor gets its own mulberry32 stream seeded from
 *   (seed, tensor name), so its values do not depend on the other tensors.
 * - Scaled like He initialization (He et al. 2015, variance gain/fanIn; gain 2 before
 *   ReLU/ReLU6, 1 for linear outputs; fanIn = kH·kW·inC for a conv, kH·kW for a
 *   depthwise conv, K for a fully-connected layer), and also divided by the second
 *   moment E[x²] that the op's input is expected to have. That moment is propagated
 *   through the graph without data, assuming Gaussian pre-activations: the graph
 *   input is taken as uniform in [-1, 1] (E[x²] = 1/3), every conv's pre-activation
 *   then has variance `gain` (so its output has E[x²] ≈ 1), `add` sums moments
 *   (means included: ReLU outputs are positive), `concat` averages them, ReLU maps
 *   N(μ, σ²) to its exact rectified moments, and other ops pass them through.
 *   Plain He scaling keeps a chain like MobileNetV2 sane, but not RandWire, whose
 *   nodes sum many positive ReLU outputs: with it, the output RMS of a 3-stage,
 *   96-node RandWire was about 2700. With the moment correction every conv output
 *   stays near E[x²] = 1 whatever it reads (that RandWire's output RMS: 0.84).
 *   The moments do not depend on the resolution, so a layer gets the same weights
 *   in MobileNetV2 at 96 and at 224 pixels.
 * - Weights uniform in ±sqrt(3·variance); biases uniform in ±0.05.
 */
import { tensorElements, type Activation, type Graph, type Tensor } from '../planner/ir.js';
import { checkSeed, hashSeed, mulberry32 } from './generators/rng.js';

/** Half-width of the uniform bias distribution. */
export const RANDOM_BIAS_RANGE = 0.05;
/** Second moment assumed for graph inputs (uniform in [-1, 1]). */
export const INPUT_SECOND_MOMENT = 1 / 3;

interface Moments {
  mean: number;
  m2: number;
}

/** Standard normal CDF via erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Moments after the activation, for a Gaussian pre-activation with these moments. ReLU6's clip is ignored. */
function activate(pre: Moments, act: Activation): Moments {
  if (act === 'none') return pre;
  const mu = pre.mean;
  const s = Math.sqrt(Math.max(pre.m2 - mu * mu, 1e-12));
  const z = mu / s;
  const cdf = normalCdf(z);
  const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  return { mean: mu * cdf + s * pdf, m2: (mu * mu + s * s) * cdf + mu * s * pdf };
}

/** Values for every constant tensor of a float32 graph, by tensor id. */
export function randomConstants(graph: Graph, seed: number): Map<number, Float32Array> {
  checkSeed('randomConstants', seed);
  const moments = new Map<number, Moments>();
  for (const i of graph.inputs) moments.set(i, { mean: 0, m2: INPUT_SECOND_MOMENT });
  const input = (id: number): Moments => moments.get(id) ?? { mean: 0, m2: 1 };
  /** Variance of each weight tensor, by tensor id. */
  const weightVariance = new Map<number, number>();

  for (const op of graph.ops) {
    let out: Moments;
    switch (op.kind) {
      case 'conv2d':
      case 'dwconv2d':
      case 'fully_connected': {
        const w = graph.tensors[op.weights]!.shape;
        const fanIn = op.kind === 'conv2d' ? w[1]! * w[2]! * w[3]! : op.kind === 'dwconv2d' ? w[1]! * w[2]! : w[1]!;
        const gain = op.act === 'none' ? 1 : 2;
        const q = Math.max(input(op.inputs[0]!).m2, 1e-6);
        weightVariance.set(op.weights, gain / (fanIn * q));
        out = activate({ mean: 0, m2: gain }, op.act);
        break;
      }
      case 'add': {
        const a = input(op.inputs[0]!);
        const b = input(op.inputs[1]!);
        out = activate({ mean: a.mean + b.mean, m2: a.m2 + b.m2 + 2 * a.mean * b.mean }, op.act);
        break;
      }
      case 'concat': {
        let n = 0;
        out = { mean: 0, m2: 0 };
        for (const i of op.inputs) {
          const k = tensorElements(graph.tensors[i]!);
          const m = input(i);
          out.mean += k * m.mean;
          out.m2 += k * m.m2;
          n += k;
        }
        out = activate({ mean: out.mean / n, m2: out.m2 / n }, op.act);
        break;
      }
      default:
        out = input(op.inputs[0]!);
    }
    for (const o of op.outputs) moments.set(o, out);
  }

  const values = new Map<number, Float32Array>();
  for (const t of graph.tensors) {
    if (!t.constant) continue;
    if (t.dtype !== 'f32')
      throw new Error(
        `randomConstants: graph '${graph.name}' constant '${t.name}' is ${t.dtype}; only float32 graphs are supported`,
      );
    const variance = weightVariance.get(t.id);
    const half =
      variance !== undefined ? Math.sqrt(3 * variance) : t.shape.length <= 1 ? RANDOM_BIAS_RANGE : fallbackHalfWidth(t);
    const rng = mulberry32(hashSeed(seed, t.name));
    const v = new Float32Array(tensorElements(t));
    for (let i = 0; i < v.length; i++) v[i] = (2 * rng() - 1) * half;
    values.set(t.id, v);
  }
  return values;
}

/** A constant no op reads as weights: linear (gain 1) weights over all axes but the first. */
function fallbackHalfWidth(t: Tensor): number {
  const fanIn = Math.max(1, tensorElements(t) / Math.max(1, t.shape[0]!));
  return Math.sqrt(3 / fanIn);
}
