/**
 * Row-streamed plans against the default plan, side by side in one run: MobileNetV2
 * 1.0/224 uint8 (fixtures models/mobilenet_v2_1.0_224_quant.tflite) planned with no
 * budget and with budgets of 376,320 B, 172,000 B, 128 KiB and 86 KiB, and the smallest
 * streamed plan (--stream without a budget); each plan's
 * output is checked byte for byte against TFLite's before it is timed. Then the float
 * default model (nsfwjs) by default and within 344 KiB. Appends the median latencies,
 * arenas and measured peaks to bench/RESULTS.md.
 *
 * `--deeplab` instead times Mobile DeepLabv3 (fixtures models/deeplabv3_mnv2_pascal_quant.tflite,
 * 513x513, integer path): the default plan, the backbone streamed in one pass (a budget
 * of 1,200,000 B), the backbone and head streamed in two passes within 500,000 B, and the
 * smallest streamed plan; each plan's class map is checked against TFLite's sha256 first.
 *
 * Every executor runs on the same resized input bytes (runPixels: the streamed plans copy
 * its rows into their first ring as the schedule asks, the others copy it whole into the
 * arena), interleaved round by round (results.ts runSuite).
 *
 *   npx tsx bench/stream.ts [--rounds N] [--no-write] [--deeplab]
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolveModel } from '../src/load_model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { prepareRun, type RunSetup } from '../src/run_setup.js';
import { fixturePath, readReference } from '../test/helpers/fixtures.js';
import { appendResults, median, runSuite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const rounds = Number(arg('--rounds', '6'));
const write = !argv.includes('--no-write');
const deeplab = argv.includes('--deeplab');

const MODEL = 'mobilenet_v2_1.0_224_quant';
const IMAGE = 'images/cat.png';
const modelFile = fixturePath('models', `${MODEL}.tflite`);
if (!existsSync(modelFile) || !existsSync(fixturePath(IMAGE))) {
  console.error(`bench: fixtures missing (${modelFile}); set LOWWATER_FIXTURES`);
  process.exit(2);
}
const kernels = await loadKernels({});
const loadAtStart = loadavg()[0]!;
const ref = readReference<{ results: { image: string; input_sha256: string; output_uint8: number[] }[] }>(
  `${MODEL}.json`,
);
const refCat = ref.results.find((r) => r.image === IMAGE)!;
const { bytes, sha256 } = await loadModelInput(fixturePath(IMAGE), 224, 224);
if (sha256 !== refCat.input_sha256) throw new Error(`${IMAGE}: input bytes differ from the reference's`);

interface Row {
  label: string;
  budget: number | undefined;
  setup: RunSetup;
}

async function prepare(source: string, budget: number | undefined, label: string, stream?: 'on'): Promise<Row> {
  const loaded = (await resolveModel(source, { offline: true })).model;
  const setup = await prepareRun(loaded, {
    kernels,
    ...(budget !== undefined ? { budgetBytes: budget } : {}),
    ...(stream ? { stream } : {}),
  });
  return { label, budget, setup };
}

const describe = (r: Row) => {
  const st = r.setup.report.stream;
  if (!st) return 'whole tensors (Section 5.1 chunks)';
  const blocks = st.stages.filter((s) => s.expanded).length;
  const head = st.stages.some((s) => s.kind === 'conv_pool' || s.kind === 'row_head') ? ' + head' : '';
  const passes = st.passes === 2 ? ', two passes' : '';
  return `streamed: ${st.stages.length} stages (${blocks} blocks${head}${passes}), ${st.recomputingBlocks.length} recompute`;
};

if (deeplab) {
  const name = 'deeplabv3_mnv2_pascal_quant';
  const ref = readReference<{ results: { image: string; input_sha256: string; argmax_sha256_uint8: string }[] }>(
    `${name}.json`,
  );
  const r0 = ref.results[0]!;
  const input = await loadModelInput(fixturePath(r0.image), 513, 513);
  if (input.sha256 !== r0.input_sha256) throw new Error(`${r0.image}: input bytes differ from the reference's`);
  const file = fixturePath('models', `${name}.tflite`);
  const rows: Row[] = [
    await prepare(file, undefined, 'default'),
    await prepare(file, 1_200_000, 'backbone streamed, one pass (1,200,000 B)'),
    await prepare(file, 500_000, '500,000 B'),
    await prepare(file, undefined, 'smallest (--stream)', 'on'),
  ];
  const table = await section(`${name}.tflite, integer path, ${r0.image}`, rows, input.bytes, (r) => {
    const out = r.setup.executor.runPixels(input.bytes).output;
    const sha = createHash('sha256').update(out).digest('hex');
    if (sha !== r0.argmax_sha256_uint8) throw new Error(`${r.label}: class map differs from TFLite's; not timing`);
    return 'class map sha256 equal to TFLite';
  });
  const body = [
    `Load average (1 min) ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end: other processes shared the CPUs, so compare the ratios of one table (its plans interleaved round by round), not times across runs.`,
    '',
    "Each plan's class map (513×513) is checked against TFLite's sha256 before timing. All plans run on the same resized input bytes (a streamed plan copies each row into its first ring when the schedule asks for it, twice with two passes). Arena = the WebAssembly memory region the plan sizes (the class map is in it); the streamed plans read the input image from outside it.",
    '',
    table,
  ].join('\n');
  console.log(body);
  if (write)
    appendResults(
      'Mobile DeepLabv3 row-streamed (backbone and head, two passes) vs the default plan',
      `npx tsx bench/stream.ts --deeplab${rounds !== 6 ? ` --rounds ${rounds}` : ''}`,
      body,
    );
  process.exit(0);
}

async function section(title: string, rows: Row[], input: Uint8Array, check: (r: Row) => string): Promise<string> {
  for (const r of rows) console.error(`${r.label}: ${check(r)}`);
  const samples = await runSuite(
    rows.map((r) => ({ name: r.label, fn: async () => r.setup.executor.runPixels(input) })),
    { rounds },
  );
  const base = median(samples.get(rows[0]!.label)!);
  const lines = [
    `| plan | budget (B) | arena (B) | measured peak (B) | median latency (ms) | × default | samples |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const m = r.setup.executor.memoryReport();
    const ms = median(samples.get(r.label)!);
    lines.push(
      `| ${r.label}: ${describe(r)} | ${r.budget === undefined ? '–' : r.budget.toLocaleString('en-US')} | ${m.arenaBytes.toLocaleString('en-US')} | ${m.measuredPeakBytes.toLocaleString('en-US')} | ${ms.toFixed(2)} | ${(ms / base).toFixed(2)} | ${samples.get(r.label)!.length} |`,
    );
  }
  return `### ${title}\n\n${lines.join('\n')}\n`;
}

const int8: Row[] = [];
for (const [label, budget] of [
  ['default', undefined],
  ['376,320 B', 376_320],
  ['172,000 B', 172_000],
  ['128 KiB', 131_072],
  ['86 KiB', 88_064],
] as const)
  int8.push(await prepare(modelFile, budget, label));
// The floor: the whole network streamed, every stage at its fewest bytes.
int8.push(await prepare(modelFile, undefined, 'smallest (--stream)', 'on'));
const int8Table = await section(`${MODEL}.tflite, integer path, ${IMAGE}`, int8, bytes, (r) => {
  const out = r.setup.executor.runPixels(bytes).output;
  const diff = Array.from(out).findIndex((v, i) => v !== refCat.output_uint8[i]);
  if (diff >= 0 || out.length !== refCat.output_uint8.length)
    throw new Error(`${r.label}: output differs from TFLite's at byte ${diff}; not timing`);
  return 'raw output byte-equal to TFLite';
});

const f32: Row[] = [
  await prepare('nsfw_mobilenet_v2', undefined, 'default'),
  await prepare('nsfw_mobilenet_v2', 352_256, '344 KiB'),
];
const want = f32[0]!.setup.executor.runPixels(bytes).output as Float32Array;
const f32Table = await section('nsfwjs MobileNetV2 (the default model), float32 path, cat.png', f32, bytes, (r) => {
  const out = r.setup.executor.runPixels(bytes).output as Float32Array;
  const diff = Math.max(...Array.from(out, (v, i) => Math.abs(v - want[i]!)));
  if (!(diff <= 1e-5))
    throw new Error(`${r.label}: probabilities differ by ${diff} from the default plan's; not timing`);
  return `probabilities within ${diff.toExponential(1)} of the default plan`;
});

const body = [
  `Load average (1 min) ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end: other processes shared the CPUs, so compare the ratios of one table (its plans interleaved round by round), not times across runs.`,
  '',
  'Each plan is checked before timing (integer: raw output byte-equal to TFLite; float: probabilities within 1e-5 of the default plan). All plans run on the same resized input bytes (a streamed plan copies each row into its first ring when the schedule asks for it; the resize from the decoded image, which `classify` does row by row for a streamed plan, is not timed for any plan). Arena = the WebAssembly memory region the plan sizes; the streamed plans read the input image from outside it.',
  '',
  int8Table,
  f32Table,
].join('\n');
console.log(body);
if (write)
  appendResults(
    'Row-streamed plans vs the default plan: latency and measured peak by budget',
    `npx tsx bench/stream.ts${rounds !== 6 ? ` --rounds ${rounds}` : ''}`,
    body,
  );
