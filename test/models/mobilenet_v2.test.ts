import t from 'tap';
import { buildMobileNetV2, makeDivisible, MOBILENET_V2_ALPHAS } from '../../models/mobilenet_v2.js';
import { graphMultiplyAdds, graphParameters } from '../../planner/cost.js';
import { validateGraph } from '../../planner/builder.js';

const within = (got: number, want: number, rel: number) => Math.abs(got - want) <= rel * want;

t.test('paper Table 4: MobileNetV2 1.0/224 has 3.4M parameters and 300M multiply-adds', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const params = graphParameters(g);
  const madds = graphMultiplyAdds(g);
  t.ok(within(params, 3.4e6, 0.03), `params ${params} within 3% of 3.4M`);
  t.ok(within(madds, 300e6, 0.03), `MAdds ${madds} within 3% of 300M`);
});

t.test('paper Table 4: MobileNetV2 1.4/224 has 585M multiply-adds', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.4, resolution: 224 });
  const madds = graphMultiplyAdds(g);
  t.ok(within(madds, 585e6, 0.03), `MAdds ${madds} within 3% of 585M`);
  // Table 4 prints 6.9M parameters for 1.4, but the architecture of Table 2 at
  // width 1.4 has 6.1M: TF-slim's published checkpoint table lists
  // mobilenet_v2_1.4_224 at 6.06M parameters and 582M MACs, and the paper's
  // 6.9M is a known misprint. We check against the checkpoint's count and
  // against the paper's figure minus the misprint, so a wrong architecture still fails.
  const params = graphParameters(g);
  t.ok(within(params, 6.06e6, 0.03), `params ${params} within 3% of 6.06M (TF-slim mobilenet_v2_1.4_224)`);
  t.notOk(within(params, 6.9e6, 0.03), 'does not reproduce the misprinted 6.9M');
});

t.test('every width multiplier and resolution builds a valid graph with channels in multiples of 8', async (t) => {
  for (const alpha of MOBILENET_V2_ALPHAS) {
    for (const res of [96, 128, 160, 192, 224]) {
      const g = buildMobileNetV2({ alpha, resolution: res });
      validateGraph(g);
      const convs = g.ops.filter((op) => op.kind === 'conv2d');
      for (const op of convs) {
        const c = g.tensors[op.outputs[0]!]!.shape[3]!;
        if (c % 8 !== 0) t.fail(`${alpha}/${res} ${op.name}: ${c} channels`);
      }
      const last = convs[convs.length - 1]!;
      const lastC = g.tensors[last.outputs[0]!]!.shape[3];
      t.equal(lastC, alpha > 1 ? makeDivisible(1280 * alpha) : 1280, `${alpha}/${res}: last conv channels`);
      t.same(g.tensors[g.outputs[0]!]!.shape, [1, 1000]);
    }
  }
});

t.test('makeDivisible follows the TF-slim rounding rule', async (t) => {
  t.equal(makeDivisible(32 * 0.35), 16); // 11.2 → 8 would lose more than 10%, so 16
  t.equal(makeDivisible(16 * 0.35), 8);
  t.equal(makeDivisible(24 * 0.75), 24); // 18 → 16 is below 90% of 18, so 24
  t.equal(makeDivisible(1280 * 1.4), 1792);
  for (let v = 1; v < 2000; v += 0.7) {
    const r = makeDivisible(v);
    if (r % 8 !== 0 || r < 0.9 * v || r < 8) t.fail(`makeDivisible(${v}) = ${r}`);
  }
});
