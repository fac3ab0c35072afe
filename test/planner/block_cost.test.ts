// The block cost model against small tables of fused-kernel times measured on the project's
// benchmark machine: the float kernel (bench/block_cost_fit.ts, minimum of five runs,
// 2026-11-27) and the integer kernel on the quantized MobileNetV2 1.0/224 file
// (bench/block_cost_fit.ts --path integer, minimum of 220 runs). The times are data, not
// outputs of the code under test: each path's model must order every two measured points
// (chunk counts of one block, or blocks of one network) whose times differ by more than 20%
// the way the measurements do, and estimate each block's slowdown from t = 1 to its largest
// t within a factor 1.5. Pairs closer than 20% are not checked (chunk counts with the same
// schedule differ by noise). No timing is taken here.
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { DEFAULT_BLOCK_COST_MODEL, estimateBlockNs } from '../../planner/block_cost.js';
import { detectBlocks } from '../../planner/blocks.js';
import type { NumericPath } from '../../planner/block_schedule/index.js';
import { chunkCandidates } from '../../planner/chunks.js';
import type { Graph } from '../../planner/ir.js';
import { planGraphReport } from '../../planner/plan_graph.js';

/** [alpha/resolution, block, [chunks, measured ms]...]: f32_block_fused. */
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

/**
 * q8_block on the quantized MobileNetV2 1.0/224 file, whose blocks have the shapes of the
 * 1.0/224 network built here: the integer estimates are asked of that graph.
 */
const MEASURED_INTEGER: [string, string, [number, number][]][] = [
  [
    '1.0/224',
    'expanded_conv_1',
    [
      [1, 1.531],
      [4, 1.507],
      [16, 1.62],
      [48, 1.763],
      [96, 1.882],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_2',
    [
      [1, 1.278],
      [8, 1.417],
      [24, 1.63],
      [72, 1.836],
      [144, 2.283],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_7',
    [
      [1, 0.4],
      [4, 0.486],
      [16, 0.625],
      [48, 0.717],
      [384, 1.192],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_14',
    [
      [1, 0.575],
      [4, 0.815],
      [16, 1.163],
      [96, 1.584],
      [960, 17.72],
    ],
  ],
  [
    '1.0/224',
    'expanded_conv_16',
    [
      [1, 0.847],
      [3, 1.362],
      [12, 1.576],
      [48, 1.797],
      [960, 21.16],
    ],
  ],
];

for (const [path, table] of [
  ['float', MEASURED],
  ['integer', MEASURED_INTEGER],
] as [NumericPath, typeof MEASURED][]) {
  t.test(
    `the default ${path} cost model orders measured chunk counts and blocks as the ${path} kernel ran them`,
    async (t) => {
      const graphs = new Map<string, ReturnType<typeof buildMobileNetV2>>();
      const points: { model: string; label: string; ms: number; ns: number }[] = [];
      for (const [model, name, rows] of table) {
        const [alpha, res] = model.split('/').map(Number) as [number, number];
        let g = graphs.get(model);
        if (!g) graphs.set(model, (g = buildMobileNetV2({ alpha, resolution: res })));
        const b = detectBlocks(g).find((x) => x.name === name);
        if (!b) throw new Error(`MobileNetV2 ${model} has no block ${name}`);
        const est = rows.map(([chunks]) => estimateBlockNs(g!, b, chunks, DEFAULT_BLOCK_COST_MODEL, path));
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
    },
  );
}

/** The graph with every activation tensor uint8: what the planner sees of a quantized file. */
function asUint8(g: Graph): Graph {
  return {
    ...g,
    tensors: g.tensors.map((x) => (x.constant || x.dtype !== 'f32' ? x : { ...x, dtype: 'u8' as const })),
  };
}

t.test(
  "an int8 plan chooses chunk counts by the integer kernel's estimates, a float plan by the float kernel's",
  async (t) => {
    const f32 = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
    const u8 = asUint8(f32);
    const blocks = detectBlocks(u8);
    t.ok(
      blocks.length === 17 && blocks.every((b) => b.expandedElementBytes === 1),
      'the blocks have 1-byte activations',
    );
    const b = blocks.find((x) => x.name === 'expanded_conv_2')!;
    for (const c of chunkCandidates(u8, b, DEFAULT_BLOCK_COST_MODEL)) {
      const integer = estimateBlockNs(u8, b, c.chunks, DEFAULT_BLOCK_COST_MODEL, 'integer');
      t.equal(c.estimatedNs, integer, `t = ${c.chunks}: the integer estimate`);
      t.not(c.estimatedNs, estimateBlockNs(u8, b, c.chunks, DEFAULT_BLOCK_COST_MODEL, 'float'));
    }
    // A budget that fits every block whole: each block at its fastest integer estimate, and that is
    // t = 1 everywhere (every further tile recomputes halo rows), where the float kernel runs many
    // chunk counts equally fast and the plan keeps the smallest.
    const roomy = planGraphReport(u8, { budgetBytes: 4 << 20 });
    t.same(
      roomy.chunks.map((c) => c.chunks),
      blocks.map(() => 1),
      'int8: every block whole',
    );
    for (const c of roomy.chunks) {
      const block = blocks.find((x) => x.name === c.block)!;
      const fastest = Math.min(...chunkCandidates(u8, block, DEFAULT_BLOCK_COST_MODEL).map((x) => x.estimatedNs));
      t.ok(Math.abs(c.estimatedMs * 1e6 - fastest) <= 1e-9 * fastest, `${c.block}: at its fastest integer estimate`);
    }
    const float = planGraphReport(f32, { budgetBytes: 4 * (4 << 20) });
    t.ok(
      float.chunks.some((c) => c.chunks > 1),
      `float32 under the same budget per element: ${float.chunks.map((c) => c.chunks).join(',')} chunks`,
    );
  },
);
