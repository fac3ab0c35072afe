import t from 'tap';
import { validateGraph } from '../../planner/builder.js';
import { graphMultiplyAdds, graphParameters } from '../../planner/cost.js';
import type { Graph } from '../../planner/ir.js';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { buildSSDLite } from '../../models/generators/ssdlite.js';
import { within } from './graph_helpers.js';

/*
 * What the paper's tables count (MobileNetV2 paper, Section 6.2):
 * - Table 6 ("MNet V2 + SSDLite: 4.3M params, 0.8B MAdd", 320x320 input) is the
 *   whole detector: backbone without its classifier, extra feature layers and
 *   predictors.
 * - Table 5 ("Comparison of the size and the computational cost between SSD and
 *   SSDLite configured with MobileNetV2 and making predictions for 80 classes":
 *   SSD 14.8M / 1.25B, SSDLite 2.1M / 0.35B) counts only what sits on top of
 *   MobileNetV2: the four extra feature layers and the six box/class predictors.
 *   Its SSD row has regular 3x3 convs in both (SSD, Liu et al. 2016).
 * - "80 classes" means 81 score channels per anchor (80 + background). The released
 *   TF model predicts 91 (90 COCO category ids + background), our default.
 *
 * Our counts (BatchNorm folded into one bias per channel; the paper's counts, like
 * TF's trainable variables, have a scale and an offset per channel — this is
 * why our parameters run a little low for Table 7 and our MobileNetV2 at 3.49M):
 *   SSDLite 81 classes: 4,311,637 params, 0.789B MAdds (Table 6: 4.3M, 0.8B)
 *   SSDLite 91 classes: 4,475,167 params, 0.804B MAdds
 *   heads on top of MobileNetV2, 81 classes: SSD 14,774,901 / 1.259B, SSDLite 2,104,821 / 0.178B
 * Table 5's SSDLite 0.35B is the one figure we do not reproduce: it contradicts
 * Table 6, since the backbone alone costs 0.611B at 320x320 and 0.611 + 0.35 = 0.96B
 * would not round to Table 6's 0.8B; our heads (0.178B) give 0.789B, which does.
 * (0.35B is about twice our 0.178B, as if multiplies and adds had been counted
 * separately for that one row; the SSD row 1.25B matches our count as it is.)
 */

const backbone = buildMobileNetV2({ alpha: 1, resolution: 320, classes: 0 });
const backboneParams = graphParameters(backbone);
const backboneMAdds = graphMultiplyAdds(backbone);

const heads = (g: Graph) => ({
  params: graphParameters(g) - backboneParams,
  madds: graphMultiplyAdds(g) - backboneMAdds,
});

t.test('paper Table 6: MobileNetV2 + SSDLite at 320x320 has 4.3M parameters and 0.8B multiply-adds', async (t) => {
  for (const classes of [81, 91]) {
    const g = buildSSDLite({ classes });
    const params = graphParameters(g);
    const madds = graphMultiplyAdds(g);
    t.ok(within(params, 4.3e6, 0.05), `${classes} classes: params ${params} within 5% of 4.3M`);
    t.ok(within(madds, 0.8e9, 0.05), `${classes} classes: MAdds ${madds} within 5% of 0.8B`);
  }
  // The paper's 80 classes (+ background) fit much closer than the released model's 91.
  const g81 = buildSSDLite({ classes: 81 });
  t.ok(within(graphParameters(g81), 4.3e6, 0.01), `81 classes: params ${graphParameters(g81)} within 1% of 4.3M`);
});

t.test('paper Table 5: prediction layers on top of MobileNetV2, SSD vs SSDLite, 80 classes', async (t) => {
  const ssd = heads(buildSSDLite({ classes: 81, lite: false }));
  const lite = heads(buildSSDLite({ classes: 81 }));
  t.ok(within(ssd.params, 14.8e6, 0.05), `SSD params ${ssd.params} within 5% of 14.8M`);
  t.ok(within(ssd.madds, 1.25e9, 0.05), `SSD MAdds ${ssd.madds} within 5% of 1.25B`);
  t.ok(within(lite.params, 2.1e6, 0.05), `SSDLite params ${lite.params} within 5% of 2.1M`);
  // Table 5's SSDLite 0.35B cannot hold together with Table 6 (see the note above):
  t.ok(backboneMAdds + 0.35e9 > 0.85e9, `backbone ${backboneMAdds} + 0.35B does not round to Table 6's 0.8B`);
  t.ok(
    backboneMAdds + lite.madds < 0.85e9 && backboneMAdds + lite.madds >= 0.75e9,
    `backbone + our SSDLite heads (${lite.madds}) does`,
  );
  t.ok(
    lite.madds < ssd.madds / 5 && lite.params < ssd.params / 5,
    'SSDLite heads are several times cheaper than SSD heads',
  );
});

t.test('SSDLite layout: heads on the layer-15 expansion (stride 16) and on Conv_1 and four extra layers', async (t) => {
  const g = buildSSDLite();
  validateGraph(g);
  const boxHeads = g.ops.filter((o) => /^BoxPredictor_\d\/BoxEncodingPredictor_depthwise$/.test(o.name));
  t.equal(boxHeads.length, 6);
  const maps = boxHeads.map((o) => g.tensors[o.inputs[0]!]!);
  t.same(
    maps.map((m) => m.shape),
    [
      [1, 20, 20, 576],
      [1, 10, 10, 1280],
      [1, 5, 5, 512],
      [1, 3, 3, 256],
      [1, 2, 2, 256],
      [1, 1, 1, 128],
    ],
  );
  t.equal(
    g.ops[maps[0]!.producer]!.name,
    'expanded_conv_13/expand',
    'first head reads block 13 expansion (TF-slim layer_15)',
  );
  t.equal(g.ops[maps[1]!.producer]!.name, 'Conv_1');
  // Anchors: 20²·3 + (10² + 5² + 3² + 2² + 1)·6 = 2034; at 300x300 the TF model's well-known 1917.
  t.same(g.tensors[g.outputs[0]!]!.shape, [1, 2034, 4]);
  t.same(g.tensors[g.outputs[1]!]!.shape, [1, 2034, 91]);
  const g300 = buildSSDLite({ resolution: 300 });
  t.same(g300.tensors[g300.outputs[0]!]!.shape, [1, 1917, 4]);
  // Both feature strides feed parallel branches: block 13's expansion has two consumers (its depthwise and two heads).
  t.equal(maps[0]!.consumers.length, 3);
});

t.test(
  'SSDLite replaces every 3x3 conv outside the stem by depthwise + 1x1; SSD keeps regular 3x3 convs',
  async (t) => {
    const lite = buildSSDLite();
    const regular3x3 = lite.ops.filter((o) => o.kind === 'conv2d' && o.kernel[0] === 3).map((o) => o.name);
    t.same(regular3x3, ['Conv']);
    for (const o of lite.ops.filter((o) => /Predictor$/.test(o.name))) {
      const input = lite.ops[lite.tensors[o.inputs[0]!]!.producer]!;
      t.ok(o.kind === 'conv2d' && o.kernel[0] === 1 && input.kind === 'dwconv2d', `${o.name}: 1x1 after a depthwise`);
    }
    const ssd = buildSSDLite({ lite: false });
    t.equal(
      ssd.ops.filter((o) => o.kind === 'conv2d' && o.kernel[0] === 3).length,
      1 + 4 + 12,
      'stem, 4 extra layers, 12 predictors',
    );
  },
);

t.test('SSDLite builds valid graphs for widths, resolutions, anchors and dtypes', async (t) => {
  for (const alpha of [0.35, 0.5, 0.75, 1, 1.4]) {
    for (const resolution of [256, 300, 320, 512]) {
      const g = buildSSDLite({ alpha, resolution });
      validateGraph(g);
      // Every scaled layer has at least min_depth (16) channels.
      for (const op of g.ops)
        if (op.kind === 'conv2d' && !/Predictor$/.test(op.name) && g.tensors[op.outputs[0]!]!.shape[3]! < 16)
          t.fail(`${alpha}/${resolution} ${op.name}`);
    }
  }
  validateGraph(buildSSDLite({ dtype: 'u8' }));
  const g = buildSSDLite({ anchorsPerLocation: [6, 6, 6, 6, 6, 6], classes: 2 });
  t.same(g.tensors[g.outputs[1]!]!.shape, [1, (400 + 100 + 25 + 9 + 4 + 1) * 6, 2]);
  t.equal(JSON.stringify(buildSSDLite()), JSON.stringify(buildSSDLite()), 'deterministic');
  t.throws(() => buildSSDLite({ anchorsPerLocation: [3, 6] }), /anchorsPerLocation/);
});
