/**
 * Folding passes over layer ops, before any graph tensor exists:
 * 1. ZeroPadding2D → the explicit padding of the ('valid') convolutions that read it;
 * 2. BatchNormalization → the weights and bias of the convolution before it
 *    (or, with no convolution to fold into, a 1x1 depthwise convolution);
 * 3. ReLU / ReLU6 → the fused activation of the conv, dense or add before it.
 */
import type { Padding } from '../../../planner/ir.js';
import type { ConvLop, Lop, Values } from './layers.js';
import { describeLayer } from './topology.js';
import { TfjsModelError } from './weights.js';

/**
 * Folds BatchNormalization (per output channel c) into conv weights and bias, in float64:
 * s = γ/√(σ²+ε), w' = w·s, b' = (b − μ)·s + β. Computed when the executor asks for the
 * weights (after planning): each of w' and b' reads only what it needs.
 */
export function foldBatchNorm(
  conv: Pick<ConvLop, 'w' | 'wShape' | 'bias' | 'depthwise'>,
  bn: { gamma: Values; beta: Values; mean: Values; variance: Values; epsilon: number },
): { w: Values; bias: Values } {
  const outC = conv.depthwise ? conv.wShape[3] : conv.wShape[0];
  // The conv's own values as they are now: the caller replaces conv.w and conv.bias with the folded ones.
  const [w0f, b0f] = [conv.w, conv.bias];
  const scale = (): Float64Array => {
    const [gamma, variance] = [bn.gamma(), bn.variance()];
    const s = new Float64Array(outC);
    for (let c = 0; c < outC; c++) s[c] = gamma[c]! / Math.sqrt(variance[c]! + bn.epsilon);
    return s;
  };
  const w = (): Float64Array => {
    const [s, w0] = [scale(), w0f()];
    const out = new Float64Array(w0.length);
    if (conv.depthwise) {
      // [1, kh, kw, C·m]: the channel is the fastest index.
      for (let i = 0; i < out.length; i++) out[i] = w0[i]! * s[i % outC]!;
    } else {
      // OHWI: each output channel is a contiguous run.
      const per = w0.length / outC;
      for (let i = 0; i < out.length; i++) out[i] = w0[i]! * s[Math.floor(i / per)]!;
    }
    return out;
  };
  const bias = (): Float64Array => {
    const [s, b0, mean, beta] = [scale(), b0f?.() ?? null, bn.mean(), bn.beta()];
    const out = new Float64Array(outC);
    for (let c = 0; c < outC; c++) out[c] = ((b0 ? b0[c]! : 0) - mean[c]!) * s[c]! + beta[c]!;
    return out;
  };
  return { w, bias };
}

/** Runs the three folding passes; returns the remaining ops (order kept, which stays topological). */
export function foldLayerOps(lops: Lop[], graphOutputs: string[], source: string): Lop[] {
  const fail: (l: Lop, m: string) => never = (l, m) => {
    throw new TfjsModelError(source, `${describeLayer(l.layer)}: ${m}`);
  };
  const outputs = new Set(graphOutputs);
  const uses = (ops: Lop[]): Map<string, Lop[]> => {
    const m = new Map<string, Lop[]>();
    for (const op of ops) for (const k of op.ins) (m.get(k) ?? m.set(k, []).get(k)!).push(op);
    return m;
  };
  const producers = (ops: Lop[]): Map<string, Lop> => new Map(ops.map((op) => [op.out, op]));

  // 1. ZeroPadding2D: every reader must be a conv with 'valid' padding; it takes the padding, no padded copy exists.
  let ops = lops;
  let readers = uses(ops);
  ops = ops.filter((z) => {
    if (z.kind !== 'zeropad') return true;
    const rs = readers.get(z.out) ?? [];
    if (outputs.has(z.out))
      fail(
        z,
        'is a model output; lowwater folds ZeroPadding2D into the convolution that follows and makes no padded copy',
      );
    if (rs.length === 0) fail(z, 'has no consumer');
    for (const r of rs) {
      if (r.kind !== 'conv')
        fail(
          z,
          `is read by ${describeLayer(r.layer)}; ZeroPadding2D must be followed only by a Conv2D or DepthwiseConv2D with padding 'valid'`,
        );
      const c = r as ConvLop;
      if (c.padding === 'same')
        fail(
          z,
          `is read by ${describeLayer(c.layer)} with padding 'same'; ZeroPadding2D can only fold into a 'valid' convolution`,
        );
      const p: Padding = c.padding;
      c.padding = {
        top: p.top + z.pad.top,
        bottom: p.bottom + z.pad.bottom,
        left: p.left + z.pad.left,
        right: p.right + z.pad.right,
      };
      c.ins = [z.ins[0]!];
      c.folded.push(z.layer.name);
    }
    return false;
  });

  // 2. BatchNormalization: into the conv it reads when the conv's output goes nowhere else.
  readers = uses(ops);
  let prod = producers(ops);
  ops = ops.flatMap((b): Lop[] => {
    if (b.kind !== 'batchnorm') return [b];
    const p = prod.get(b.ins[0]!);
    if (p && p.kind === 'conv' && p.act === 'none' && (readers.get(p.out)?.length ?? 0) === 1 && !outputs.has(p.out)) {
      if (b.channels !== (p.depthwise ? p.wShape[3] : p.wShape[0]))
        fail(
          b,
          `has ${b.channels} channels but ${describeLayer(p.layer)} has ${p.depthwise ? p.wShape[3] : p.wShape[0]}`,
        );
      const f = foldBatchNorm(p, b);
      p.w = f.w;
      p.bias = f.bias;
      p.out = b.out;
      p.folded.push(b.layer.name);
      prod.set(b.out, p);
      return [];
    }
    // Nothing to fold into: y = x·s + (β − μ·s) as a 1x1 depthwise conv.
    const c = b.channels;
    const one: ConvLop = {
      kind: 'conv',
      layer: b.layer,
      ins: b.ins,
      out: b.out,
      depthwise: true,
      kernel: [1, 1],
      stride: [1, 1],
      dilation: [1, 1],
      padding: { top: 0, bottom: 0, left: 0, right: 0 },
      w: () => new Float64Array(c).fill(1),
      wShape: [1, 1, 1, c],
      bias: null,
      depthMultiplier: 1,
      act: 'none',
      folded: [],
    };
    const f = foldBatchNorm(one, b);
    one.w = f.w;
    one.bias = f.bias;
    return [one];
  });

  // 3. ReLU/ReLU6 into the op before it.
  readers = uses(ops);
  prod = producers(ops);
  ops = ops.filter((a) => {
    if (a.kind !== 'act') return true;
    const p = prod.get(a.ins[0]!);
    if (!p || (p.kind !== 'conv' && p.kind !== 'dense' && p.kind !== 'add')) {
      fail(
        a,
        `reads ${p ? describeLayer(p.layer) : 'a model input'}; lowwater fuses ${a.act} into the Conv2D, DepthwiseConv2D, Dense or Add before it and has no standalone activation op`,
      );
    }
    const q = p as Extract<Lop, { act: unknown }>;
    if (q.act !== 'none') fail(a, `follows ${describeLayer(q.layer)}, which already has activation ${q.act}`);
    if ((readers.get(q.out)?.length ?? 0) !== 1 || outputs.has(q.out)) {
      fail(a, `cannot be fused: the output of ${describeLayer(q.layer)} is also used without the activation`);
    }
    q.act = a.act;
    q.out = a.out;
    prod.set(a.out, q);
    if (q.kind === 'conv') q.folded.push(a.layer.name);
    return false;
  });
  return ops;
}
