/**
 * Mobile DeepLabv3 (both fixture models, bird_segmentation.png, float path):
 * measured peak memory (executor memoryReport, canary scan) and latency
 * under five plans, timed side by side in interleaved rounds:
 *
 *   per-layer          --chunks none, the file's op order
 *   chunked            Section 5.1 chunks (auto), the file's op order
 *   chunked + exact    chunks (auto), order from the exact search
 *   + streamed head    the same for the graph up to the logits; the final resize
 *                      and arg-max streamed row by row after it (src/segment/fused_head.ts)
 *   streamed head, fastest chunks within the chunked peak
 *                      the streamed head with the quickest chunk counts whose arena
 *                      fits the chunked plan's (budget mode): the head's own cost
 *
 * Every plan must give the same class map before anything is timed. Prints a
 * Markdown table; --write appends it to bench/RESULTS.md.
 *
 *   npx tsx bench/segment.ts [--rounds N] [--write]
 */
import { existsSync } from 'node:fs';
import { groupDigits } from '../planner/bytes.js';
import { planGraph, type PlanOptions } from '../planner/plan_graph.js';
import { Executor } from '../src/executor/executor.js';
import { dequantizeModel } from '../src/importers/dequantize.js';
import { loadTfliteFile } from '../src/importers/tflite/index.js';
import type { LoadedModel } from '../src/model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { classMapFromOutput, classMapSha256, fuseResizeArgmax, type ClassMap } from '../src/segment/index.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { appendResults, median, runSuite } from './results.js';

const argv = process.argv.slice(2);
const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 4;
const write = argv.includes('--write');
const image = fixturePath('images', 'bird_segmentation.png');
const names = ['deeplabv3_mnv2_pascal_quant', 'deeplabv3_mnv2_dm05_pascal_quant'];
if (!existsSync(image) || names.some((n) => !existsSync(fixturePath('models', `${n}.tflite`)))) {
  console.error(`bench: fixtures missing (${image}); set LOWWATER_FIXTURES`);
  process.exit(2);
}

interface Config {
  name: string;
  run: () => ClassMap;
  executor: Executor;
  plan: { peakBytes: number; arenaBytes: number; orderAlgorithm: string };
  /** Bytes used outside the arena by the streamed head (rows + class map). */
  headBytes: number;
}

async function configs(model: LoadedModel, input: Uint8Array): Promise<Config[]> {
  const out: Config[] = [];
  const full = async (name: string, options: PlanOptions) => {
    const plan = planGraph(model.graph, options);
    const executor = await Executor.create(model, plan);
    const shape = model.graph.tensors[model.graph.outputs[0]!]!.shape;
    out.push({ name, executor, plan, headBytes: 0, run: () => classMapFromOutput(executor.runPixels(input).outputs[0]!, shape) });
  };
  await full('per-layer (chunks none, file order)', { chunks: 'none', order: 'given' });
  await full('chunked (auto, file order)', { chunks: 'auto', order: 'given' });
  await full('chunked + exact order', { chunks: 'auto', order: 'exact' });
  const head = fuseResizeArgmax(model)!;
  const streamed = async (name: string, options: PlanOptions) => {
    const plan = planGraph(head.model.graph, options);
    const executor = await Executor.create(head.model, plan);
    out.push({ name, executor, plan, headBytes: head.workBytes + head.params.outH * head.params.outW, run: () => head.classMap(executor.runPixels(input).outputs[0] as Float32Array) });
  };
  await streamed('chunked + exact order + streamed head', { chunks: 'auto', order: 'exact' });
  // The fastest chunk counts that fit the full graph's chunked peak: the head's own cost, without more chunking.
  await streamed('streamed head, fastest chunks within the chunked peak', { chunks: 'auto', order: 'exact', budgetBytes: out[2]!.plan.arenaBytes });
  return out;
}

/** The streamed head alone on the logits of one run, for its share of the latency. */
async function headAlone(model: LoadedModel, input: Uint8Array): Promise<() => ClassMap> {
  const head = fuseResizeArgmax(model)!;
  const ex = await Executor.create(head.model, planGraph(head.model.graph));
  const logits = ex.runPixels(input).outputs[0] as Float32Array;
  return () => head.classMap(logits);
}

const sections: string[] = [];
for (const name of names) {
  const model = dequantizeModel(await loadTfliteFile(fixturePath('models', `${name}.tflite`)));
  const { bytes } = await loadModelInput(image, model.input.width, model.input.height);
  const cs = await configs(model, bytes);
  // Same class map from every plan, or the timings mean nothing.
  const shas = cs.map((c) => classMapSha256(c.run()));
  if (new Set(shas).size !== 1) throw new Error(`${name}: plans disagree on the class map: ${shas.join(' ')}`);
  console.error(`${name}: every plan gives class map ${shas[0]}`);
  const alone = await headAlone(model, bytes);
  const samples = await runSuite([...cs.map((c) => ({ name: c.name, fn: async () => c.run() })), { name: 'head alone', fn: async () => alone() }], { rounds, maxTime: 1 });
  const lines = [
    `### ${name} (float path, 513x513, class map sha256 ${shas[0]!.slice(0, 16)}…)`,
    '',
    '| plan | order | planned peak (B) | measured peak (B) | + head outside arena (B) | WebAssembly memory (B) | median latency (ms) | samples |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cs) {
    const m = c.executor.memoryReport();
    const s = samples.get(c.name)!;
    lines.push(
      `| ${c.name} | ${c.plan.orderAlgorithm} | ${groupDigits(c.plan.peakBytes)} | ${groupDigits(m.measuredPeakBytes)} | ${c.headBytes ? groupDigits(c.headBytes) : '–'} | ${groupDigits(m.wasmMemoryBytes)} | ${median(s).toFixed(1)} | ${s.length} |`,
    );
  }
  lines.push('', `The streamed head alone (JS, resize + arg-max of the 33x33x21 logits to 513x513): median ${median(samples.get('head alone')!).toFixed(1)} ms.`);
  sections.push(lines.join('\n'));
  console.log(lines.join('\n') + '\n');
}
const body = [
  'Latency: one image through the graph (and the streamed head where it applies), medians of interleaved rounds. Measured peak: highest arena byte written (canary scan), which the planner predicts.',
  '',
  ...sections,
].join('\n');
if (write) appendResults('Mobile DeepLabv3: memory and latency by plan', `npx tsx bench/segment.ts --rounds ${rounds}`, body);
