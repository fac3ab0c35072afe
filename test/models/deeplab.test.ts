import t from 'tap';
import { validateGraph } from '../../planner/builder.js';
import { graphMultiplyAdds, graphParameters } from '../../planner/cost.js';
import type { DepthwiseConv2DOp } from '../../planner/ir.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { within } from './graph_helpers.js';

/*
 * Paper Table 7, "MNet V2*" (heads on the second last feature map, 320 channels),
 * output stride 16, no ASPP, no multi-scale/flip: 2.11M params, 2.75B MAdds.
 * Ours at 513x513 (DeepLab's crop size, the exported models' input): 2,097,013
 * params (-0.6%; we fold BatchNorm into one bias per channel, the paper counts a
 * scale too: 16,544 BN channels would bring us to 2,113,557) and 2.741B MAdds (-0.3%).
 * At 512x512 (the caption's "PASCAL images have dimension 512x512") we get 2.604B
 * (-5.3%): the table's figure is for the 513 input, where the stride-16 map is
 * 33x33 instead of 32x32.
 *
 * Constant elements of the fixture models (weights and biases of their CONV_2D and
 * DEPTHWISE_CONV_2D ops, read from the .tflite files; the two resize-size and the
 * arg-max axis constants left out): deeplabv3_mnv2_pascal_quant 2,097,013,
 * deeplabv3_mnv2_dm05_pascal_quant 688,357.
 */

const depthwise = (g: ReturnType<typeof buildDeepLabV3>) =>
  g.ops.filter((o): o is DepthwiseConv2DOp => o.kind === 'dwconv2d');

t.test('paper Table 7: MNet V2*, OS 16, no ASPP: 2.11M parameters and 2.75B multiply-adds', async (t) => {
  const g = buildDeepLabV3({ resolution: 513, outputStride: 16 });
  const params = graphParameters(g);
  const madds = graphMultiplyAdds(g);
  t.ok(within(params, 2.11e6, 0.01), `params ${params} within 1% of 2.11M`);
  t.ok(within(madds, 2.75e9, 0.01), `MAdds ${madds} at 513x513 within 1% of 2.75B`);
  const m512 = graphMultiplyAdds(buildDeepLabV3({ resolution: 512 }));
  t.ok(m512 < 0.96 * 2.75e9, `at 512x512 the count (${m512}) is ~5% lower: the table counts the 513 input`);
});

t.test('same parameters as the fixture DeepLab models (width 1 and 0.5)', async (t) => {
  t.equal(graphParameters(buildDeepLabV3({ alpha: 1 })), 2_097_013);
  t.equal(graphParameters(buildDeepLabV3({ alpha: 0.5 })), 688_357);
});

t.test('output stride 16: block 13 runs at stride 1, blocks 14-16 dilated by 2, a 33x33 map at 513', async (t) => {
  const g = buildDeepLabV3();
  validateGraph(g);
  const dw = depthwise(g);
  t.equal(dw.length, 17);
  t.same(
    dw.map((o) => o.stride[0]),
    [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  );
  t.same(
    dw.map((o) => o.dilation[0]),
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2],
  );
  // Dilated 3x3 with SAME padding keeps 33x33: 2 pixels of padding on each side.
  t.same(dw[16]!.pad, { top: 2, bottom: 2, left: 2, right: 2 });
  const features = g.tensors[dw[16]!.outputs[0]!]!;
  t.same(features.shape, [1, 33, 33, 960]);
  t.same(g.tensors[g.outputs[0]!]!.shape, [1, 513, 513]);
  t.equal(g.tensors[g.outputs[0]!]!.dtype, 'i32');
  t.notOk(
    g.ops.some((o) => o.name === 'Conv_1'),
    'no 1280-channel conv: the head reads block 16',
  );
});

t.test('output stride 8: blocks 6 and 13 lose their stride, dilation 2 then 4, a 65x65 map', async (t) => {
  const g = buildDeepLabV3({ outputStride: 8 });
  validateGraph(g);
  const dw = depthwise(g);
  t.same(
    dw.map((o) => o.stride[0]),
    [1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  );
  t.same(
    dw.map((o) => o.dilation[0]),
    [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4],
  );
  t.same(g.tensors[g.ops.find((o) => o.name === 'aspp0')!.outputs[0]!]!.shape, [1, 65, 65, 256]);
  t.ok(
    graphMultiplyAdds(g) > 3 * graphMultiplyAdds(buildDeepLabV3()),
    'OS 8 costs several times OS 16 (paper: "output stride = 16 is more efficient")',
  );
});

t.test(
  'simplified head: image pooling and 1x1 branches in parallel, concat, projection, logits, resize, argmax',
  async (t) => {
    const g = buildDeepLabV3({ classes: 21 });
    const byName = (n: string) => g.ops.find((o) => o.name === n)!;
    const block16 = g.tensors[byName('expanded_conv_16/project').outputs[0]!]!;
    t.same(
      block16.consumers.map((c) => g.ops[c]!.name).sort(),
      ['aspp0', 'image_pooling/pool'],
      'two branches read the 320-channel map',
    );
    t.same(block16.shape, [1, 33, 33, 320]);
    const concat = byName('concat');
    t.same(
      concat.inputs.map((i) => g.ops[g.tensors[i]!.producer]!.name),
      ['image_pooling/resize', 'aspp0'],
    );
    t.same(g.tensors[concat.outputs[0]!]!.shape, [1, 33, 33, 512]);
    const resize = byName('logits/resize');
    t.ok(resize.kind === 'resize_bilinear' && resize.alignCorners && !resize.halfPixelCenters);
    t.same(g.tensors[resize.outputs[0]!]!.shape, [1, 513, 513, 21]);
    t.equal(g.ops.at(-1)!.kind, 'argmax');
    t.same(g.tensors[buildDeepLabV3({ argmax: false }).outputs[0]!]!.shape, [1, 513, 513, 21] as number[]);
  },
);

t.test('DeepLab builds valid graphs for widths, resolutions and dtypes; deterministic', async (t) => {
  for (const alpha of [0.5, 0.75, 1, 1.4]) {
    for (const resolution of [257, 321, 512, 513]) {
      for (const outputStride of [8, 16] as const) validateGraph(buildDeepLabV3({ alpha, resolution, outputStride }));
    }
  }
  validateGraph(buildDeepLabV3({ dtype: 'u8' }));
  t.equal(JSON.stringify(buildDeepLabV3()), JSON.stringify(buildDeepLabV3()));
  t.throws(() => buildDeepLabV3({ outputStride: 32 as 16 }), /output stride 32/);
});
