// The block cost model against a small table of fused-kernel times measured on the project's
// benchmark machine (bench/block_cost_fit.ts, minimum of five runs, 2026-11-27). The times are
// data, not outputs of the code under test: the model must order every two measured points
// (chunk counts of one block, or blocks of one network) whose times differ by more than 20%
// the way the measurements do, and estimate each block's slowdown from t = 1 to its largest
// t within a factor 1.5. Pairs closer than 20% are not checked (chunk counts with the same
// schedule differ by noise). No timing is taken here.
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { DEFAULT_BLOCK_COST_MODEL, estimateBlockNs } from '../../planner/block_cost.js';
import { detectBlocks } from '../../planner/blocks.js';

/** [alpha/resolution, block, [chunks, measured ms]...]. */
const MEASURED: [string, string, [number, number][]][] = [
  [
    '1.0/224',
    'expanded_conv_2',
    [
      [1, 2.211],
      [16, 2.223],
      [48, 2.286],
      [72, 2.444],
      [144, 3.001],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_7',
    [
      [1, 0.809],
      [16, 0.871],
      [48, 0.948],
      [96, 1.171],
      [384, 1.939],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_16',
    [
      [1, 1.993],
      [16, 2.161],
      [96, 2.359],
      [960, 7.053],
    ],
  ],
  [
    '0.35/96',
    'expanded_conv_7',
    [
      [1, 0.0256],
      [16, 0.0414],
      [48, 0.0737],
      [144, 0.1766],
    ],
  ],
  [
    '0.35/96',
    'expanded_conv_14',
    [
      [1, 0.0299],
      [16, 0.0387],
      [31, 0.0506],
      [84, 0.0786],
      [336, 0.3126],
    ],
  ],
];

t.test('the default cost model orders measured chunk counts and blocks as the fused kernel ran them', async (t) => {
  const graphs = new Map<string, ReturnType<typeof buildMobileNetV2>>();
  const points: { model: string; label: string; ms: number; ns: number }[] = [];
  for (const [model, name, rows] of MEASURED) {
    const [alpha, res] = model.split('/').map(Number) as [number, number];
    let g = graphs.get(model);
    if (!g) graphs.set(model, (g = buildMobileNetV2({ alpha, resolution: res })));
    const b = detectBlocks(g).find((x) => x.name === name);
    if (!b) throw new Error(`MobileNetV2 ${model} has no block ${name}`);
    const est = rows.map(([chunks]) => estimateBlockNs(g!, b, chunks, DEFAULT_BLOCK_COST_MODEL));
    rows.forEach(([chunks, ms], i) => points.push({ model, label: `${name} t=${chunks}`, ms, ns: est[i]! }));
    const measured = rows[rows.length - 1]![1] / rows[0]![1];
    const estimated = est[est.length - 1]! / est[0]!;
    t.ok(
      estimated / measured <= 1.5 && measured / estimated <= 1.5,
      `${model} ${name}: t=${rows[rows.length - 1]![0]} vs t=1 measured ×${measured.toFixed(2)}, estimated ×${estimated.toFixed(2)}`,
    );
  }
  let pairs = 0;
  for (const p of points) {
    for (const q of points) {
      if (p.model !== q.model || !(q.ms > p.ms * 1.2)) continue;
      pairs++;
      t.ok(
        q.ns > p.ns,
        `${p.model}: ${p.label} (${p.ms} ms) before ${q.label} (${q.ms} ms); estimated ${(p.ns / 1e6).toFixed(3)} < ${(q.ns / 1e6).toFixed(3)} ms`,
      );
    }
  }
  t.ok(pairs >= 50, `${pairs} pairs checked`);
});
