import t from 'tap';
import type { Graph } from '../../planner/ir.js';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { buildRandWire } from '../../models/generators/randwire.js';
import { buildDartsStack } from '../../models/generators/darts.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { buildSSDLite } from '../../models/generators/ssdlite.js';
import { mulberry32 } from '../../models/generators/rng.js';
import { randomConstants, RANDOM_BIAS_RANGE } from '../../models/random_weights.js';
import { interpret } from '../../src/reference/interpreter.js';

const byName = (g: Graph, values: Map<number, Float32Array>, name: string) => {
  const tensor = g.tensors.find((x) => x.name === name);
  if (!tensor) throw new Error(`no tensor ${name}`);
  return values.get(tensor.id)!;
};
const variance = (v: Float32Array) => {
  let s = 0;
  let s2 = 0;
  for (const x of v) ((s += x), (s2 += x * x));
  return s2 / v.length - (s / v.length) ** 2;
};

t.test('every constant of every generator gets finite values of its size', async (t) => {
  const graphs = [
    buildMobileNetV2({ alpha: 0.35, resolution: 96 }),
    buildRandWire({ nodes: 30, seed: 1, channels: 8, resolution: 32, stages: 2 }),
    buildDartsStack({ cells: 5, seed: 1, channels: 8, resolution: 32 }),
    buildSSDLite({ alpha: 0.5, resolution: 128 }),
    buildDeepLabV3({ alpha: 0.5, resolution: 129 }),
  ];
  for (const g of graphs) {
    const values = randomConstants(g, 1);
    const constants = g.tensors.filter((x) => x.constant);
    t.equal(values.size, constants.length, `${g.name}: all ${constants.length} constants`);
    for (const c of constants) {
      const v = values.get(c.id);
      if (!v || v.length !== c.shape.reduce((a, b) => a * b, 1) || !v.every(Number.isFinite))
        t.fail(`${g.name} ${c.name}`);
    }
  }
});

t.test('deterministic for a seed, different across seeds, the same per layer at any resolution', async (t) => {
  const g = buildMobileNetV2({ alpha: 0.5, resolution: 96 });
  const a = randomConstants(g, 42);
  const b = randomConstants(g, 42);
  const c = randomConstants(g, 43);
  let same = true;
  let differs = 0;
  for (const [id, v] of a) {
    const w = b.get(id)!;
    if (v.some((x, i) => x !== w[i])) same = false;
    if (v.some((x, i) => x !== c.get(id)![i])) differs++;
  }
  t.ok(same, 'same seed, same values');
  t.equal(differs, a.size, 'another seed changes every tensor');
  const big = buildMobileNetV2({ alpha: 0.5, resolution: 224 });
  const d = randomConstants(big, 42);
  for (const x of big.tensors.filter((x) => x.constant)) {
    const v = byName(g, a, x.name);
    if (d.get(x.id)!.some((y, i) => y !== v[i])) t.fail(`${x.name} differs between 96 and 224`);
  }
});

t.test('He scaling: weight variance gain / (fanIn · input second moment), biases small', async (t) => {
  const g = buildMobileNetV2({ alpha: 1, resolution: 224 });
  const v = randomConstants(g, 3);
  // First conv: 3x3x3 fan-in, ReLU6 (gain 2), input uniform in [-1, 1] (E[x²] = 1/3).
  const cases: Array<[string, number]> = [
    ['Conv/weights', 2 / (27 * (1 / 3))],
    // Depthwise after a ReLU conv whose pre-activation variance is 2: E[x²] = 1; fan-in 9, ReLU6.
    ['expanded_conv/depthwise/weights', 2 / 9],
    // Linear projection 32 → 16 after a ReLU depthwise: fan-in 32, gain 1.
    ['expanded_conv/project/weights', 1 / 32],
    // Conv_1 reads block 16's projection (linear, E[x²] = 1) with 320 channels, ReLU6.
    ['Conv_1/weights', 2 / 320],
  ];
  for (const [name, want] of cases) {
    const w = byName(g, v, name);
    const got = variance(w);
    t.ok(Math.abs(got - want) <= 0.1 * want, `${name}: variance ${got.toExponential(3)} vs ${want.toExponential(3)}`);
    t.ok(
      w.reduce((m, x) => Math.max(m, Math.abs(x)), 0) <= Math.sqrt(3 * want) * (1 + 1e-6),
      `${name}: within the uniform bound`,
    );
  }
  // Block 3's expand reads block 2's residual sum (block 1's output + block 2's projection, E[x²] = 2): half the variance.
  t.ok(
    Math.abs(variance(byName(g, v, 'expanded_conv_3/expand/weights')) / (2 / (24 * 2)) - 1) < 0.1,
    'expand after a residual add: variance 2 / (24 · 2)',
  );
  for (const x of g.tensors.filter((x) => x.constant && x.name.endsWith('/bias'))) {
    if (v.get(x.id)!.some((b) => Math.abs(b) > RANDOM_BIAS_RANGE)) t.fail(`${x.name} out of ±${RANDOM_BIAS_RANGE}`);
  }
});

t.test('a RandWire node that sums more inputs gets smaller depthwise weights', async (t) => {
  const g = buildRandWire({ nodes: 60, seed: 2, channels: 16, resolution: 32, depthMultipliers: [1] });
  const v = randomConstants(g, 1);
  const fanInOf = new Map<number, number[]>();
  for (const op of g.ops) {
    if (op.kind !== 'dwconv2d' || !/^stage0\/node\d+\/depthwise$/.test(op.name)) continue;
    let sums = 1;
    for (
      let p = g.ops[g.tensors[op.inputs[0]!]!.producer];
      p && p.kind === 'add';
      p = g.ops[g.tensors[p.inputs[0]!]!.producer]
    )
      sums++;
    const list = fanInOf.get(sums) ?? [];
    list.push(variance(v.get(op.weights)!));
    fanInOf.set(sums, list);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const degrees = [...fanInOf.keys()].sort((a, b) => a - b);
  t.ok(degrees.length >= 3, `in-degrees ${degrees.join(',')}`);
  t.ok(
    mean(fanInOf.get(degrees[0]!)!) > 2 * mean(fanInOf.get(degrees.at(-1)!)!),
    'the widest sum gets well under half the variance of a single input',
  );
});

t.test('rejects graphs that are not float32', async (t) => {
  t.throws(
    () => randomConstants(buildMobileNetV2({ alpha: 0.35, resolution: 96, dtype: 'u8' }), 1),
    /constant 'Conv\/weights' is u8/,
  );
  t.throws(() => randomConstants(buildMobileNetV2({ alpha: 0.35, resolution: 96 }), 1.5), /seed 1.5/);
});

t.test('activations stay in a sane range through deep networks (reference interpreter)', async (t) => {
  const graphs = [
    buildMobileNetV2({ alpha: 1, resolution: 128, softmax: false }),
    buildMobileNetV2({ alpha: 0.35, resolution: 96, softmax: false }),
    buildRandWire({ nodes: 96, seed: 1, channels: 16, resolution: 64, stages: 3 }),
    buildDartsStack({ cells: 8, seed: 1, channels: 16, resolution: 32 }),
  ];
  for (const g of graphs) {
    const rng = mulberry32(5);
    const shape = g.tensors[g.inputs[0]!]!.shape;
    const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => 2 * rng() - 1);
    const values = interpret(g, randomConstants(g, 7), x);
    let maxAbs = 0;
    let minRms = Infinity;
    let maxRms = 0;
    for (const op of g.ops) {
      const y = values.get(op.outputs[0]!)!;
      let s2 = 0;
      for (const a of y) {
        if (!Number.isFinite(a)) t.fail(`${g.name} ${op.name}: non-finite value`);
        maxAbs = Math.max(maxAbs, Math.abs(a));
        s2 += a * a;
      }
      const rms = Math.sqrt(s2 / y.length);
      minRms = Math.min(minRms, rms);
      maxRms = Math.max(maxRms, rms);
    }
    t.ok(
      maxAbs < 50 && minRms > 0.05 && maxRms < 20,
      `${g.name}: |x| ≤ ${maxAbs.toFixed(2)}, RMS per op ${minRms.toFixed(3)}..${maxRms.toFixed(3)}`,
    );
  }
});
