/**
 * Mobile DeepLabv3 (both fixture models, bird_segmentation.png), on the integer path (the
 * uint8 graph as the file has it) and the float path (dequantized): measured peak memory
 * (executor memoryReport, canary scan) and latency under these plans, timed side by side in
 * interleaved rounds:
 *
 *   per-layer               --chunks none, the file's op order
 *   chunked                 Section 5.1 chunks (auto), the file's op order
 *   chunked + exact         chunks (auto), order from the exact search
 *   + fused head            the same with the final RESIZE_BILINEAR → ARG_MAX as one
 *                           resize_argmax op (planner/fuse_resize_argmax.ts): the resized
 *                           scores never exist, the arena is the whole story
 *   fused head, fastest chunks within the chunked peak
 *                           the fused head with the quickest chunk counts whose arena fits
 *                           the unfused chunked plan's (budget mode)
 *   fused head, backbone streamed
 *                           the backbone row by row through line buffers (planner/stream/)
 *                           up to the feature map the ASPP's image pooling reads whole
 *
 * plus the head alone on one run's 33x33x21 logits: resize + arg-max as two kernels
 * (through the 513x513x21 scores) against the fused kernel.
 *
 * Every plan must give the same class map before anything is timed (on the integer path:
 * TFLite's, from the reference JSON). Prints Markdown tables and appends them to
 * bench/RESULTS.md.
 *
 *   npx tsx bench/segment.ts [--rounds N] [--no-write]
 */
import { existsSync } from 'node:fs';
import { groupDigits } from '../planner/bytes.js';
import { GraphBuilder } from '../planner/builder.js';
import { fuseResizeArgmax } from '../planner/fuse_resize_argmax.js';
import type { Graph, Op } from '../planner/ir.js';
import { planGraph, type PlanOptions } from '../planner/plan_graph.js';
import { Executor } from '../src/executor/executor.js';
import { dequantizeModel } from '../src/importers/dequantize.js';
import { loadTfliteFile } from '../src/importers/tflite/index.js';
import type { LoadedModel } from '../src/model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { classMapFromOutput, classMapSha256, type ClassMap } from '../src/segment/index.js';
import { fixturePath, readReference } from '../test/helpers/fixtures.js';
import { appendResults, median, runSuite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 4;
const write = !argv.includes('--no-write');
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
}

async function configs(model: LoadedModel, input: Uint8Array): Promise<Config[]> {
  const out: Config[] = [];
  const fused: LoadedModel = { ...model, graph: fuseResizeArgmax(model.graph).graph };
  if (fused.graph === model.graph) throw new Error(`${model.source}: no resize → arg-max head to fuse`);
  const add = async (name: string, m: LoadedModel, options: PlanOptions) => {
    const plan = planGraph(m.graph, options);
    const executor = await Executor.create(m, plan, { kernels: await loadKernels() });
    const shape = m.graph.tensors[m.graph.outputs[0]!]!.shape;
    out.push({ name, executor, plan, run: () => classMapFromOutput(executor.runPixels(input).outputs[0]!, shape) });
  };
  await add('per-layer (chunks none, file order)', model, { chunks: 'none', order: 'given' });
  await add('chunked (auto, file order)', model, { chunks: 'auto', order: 'given' });
  await add('chunked + exact order', model, { chunks: 'auto', order: 'exact' });
  await add('chunked + exact order + fused head', fused, { chunks: 'auto', order: 'exact' });
  // The fastest chunk counts that fit the unfused chunked arena: the fused head's own gain, without more chunking.
  await add('fused head, fastest chunks within the chunked peak', fused, {
    chunks: 'auto',
    order: 'exact',
    budgetBytes: out[2]!.plan.arenaBytes,
  });
  // The backbone row by row from the image to the 33x33 feature map the ASPP's image pooling needs whole.
  await add('fused head, backbone streamed (--stream)', fused, { chunks: 'auto', order: 'exact', stream: 'on' });
  return out;
}

/** One-input graph: the model's final resize and arg-max (unfused) on its logits. */
function headGraph(g: Graph): Graph {
  const argmax = g.ops[g.tensors[g.outputs[0]!]!.producer]! as Extract<Op, { kind: 'argmax' }>;
  const resize = g.ops[g.tensors[argmax.inputs[0]!]!.producer]! as Extract<Op, { kind: 'resize_bilinear' }>;
  const logits = g.tensors[resize.inputs[0]!]!;
  const scores = g.tensors[resize.outputs[0]!]!;
  const ids = g.tensors[argmax.outputs[0]!]!;
  const b = new GraphBuilder('head');
  const x = b.input(logits.name, logits.shape, logits.dtype, logits.quant);
  const r = b.op(
    {
      kind: 'resize_bilinear',
      name: resize.name,
      inputs: [x],
      size: resize.size,
      alignCorners: resize.alignCorners,
      halfPixelCenters: resize.halfPixelCenters,
    },
    { dtype: scores.dtype, ...(scores.quant ? { quant: scores.quant } : {}) },
  );
  b.output(b.op({ kind: 'argmax', name: argmax.name, inputs: [r], axis: argmax.axis }, { dtype: ids.dtype }));
  return b.finish();
}

/** The head alone, unfused and fused, on the logits of one run: two timed cases with the same class map. */
async function headAlone(
  file: string,
  model: LoadedModel,
  input: Uint8Array,
  integer: boolean,
): Promise<{ name: string; run: () => ClassMap }[]> {
  // The logits of one run (the integer path reads them after their step; the float path takes
  // the dequantized integer logits, the same distribution).
  const q = await loadTfliteFile(file);
  const qFused = { ...q, graph: fuseResizeArgmax(q.graph).graph };
  const ex = await Executor.create(qFused, planGraph(qFused.graph), { kernels: await loadKernels() });
  const head = qFused.graph.ops.find((o) => o.kind === 'resize_argmax')!;
  let logits: Uint8Array | Int8Array = new Uint8Array(0);
  ex.runQuantized(input, {
    afterStep: (i, read) => {
      const s = ex.plan.steps[i]!;
      if (s.kind === 'op' && s.op === head.id) logits = read(head.inputs[0]!);
    },
  });
  const lq = q.graph.tensors[head.inputs[0]!]!.quant!;
  const unfused = headGraph(model.graph);
  const [, h, w, c] = unfused.tensors[unfused.inputs[0]!]!.shape as number[];
  const out: { name: string; run: () => ClassMap }[] = [];
  for (const [name, graph] of [
    ['head alone: resize + arg-max (two kernels)', unfused],
    ['head alone: fused resize_argmax', fuseResizeArgmax(unfused).graph],
  ] as const) {
    const m: LoadedModel = {
      source: 'head',
      format: 'tflite',
      graph,
      constants: new Map(),
      input: { height: h!, width: w!, channels: c!, normalization: { kind: 'affine', scale: 1, offset: 0 } },
    };
    const e = await Executor.create(m, planGraph(graph), { kernels: await loadKernels() });
    const shape = graph.tensors[graph.outputs[0]!]!.shape;
    const real = Float32Array.from(logits, (v) => lq.scale[0]! * (v - lq.zeroPoint[0]!));
    out.push({
      name,
      run: () => classMapFromOutput((integer ? e.runQuantized(logits) : e.runFloat(real)).outputs[0]!, shape),
    });
  }
  return out;
}

const sections: string[] = [];
for (const name of names) {
  const reference = readReference(`${name}.json`).results[0] as { argmax_sha256_uint8: string };
  for (const integer of [true, false]) {
    const file = fixturePath('models', `${name}.tflite`);
    const loaded = await loadTfliteFile(file);
    const model = integer ? loaded : dequantizeModel(loaded);
    const { bytes } = await loadModelInput(image, model.input.width, model.input.height);
    const cs = await configs(model, bytes);
    const heads = await headAlone(file, model, bytes, integer);
    // Same class map from every plan, or the timings mean nothing.
    const shas = await Promise.all(cs.map((c) => classMapSha256(c.run())));
    if (new Set(shas).size !== 1) throw new Error(`${name}: plans disagree on the class map: ${shas.join(' ')}`);
    if (integer && shas[0] !== reference.argmax_sha256_uint8)
      throw new Error(`${name}: integer class map ${shas[0]} is not TFLite's ${reference.argmax_sha256_uint8}`);
    const headShas = await Promise.all(heads.map((h) => classMapSha256(h.run())));
    if (new Set(headShas).size !== 1) throw new Error(`${name}: fused and unfused heads disagree`);
    const path = integer ? 'integer path, uint8' : 'float path, dequantized';
    console.error(`${name} (${path}): every plan gives class map ${shas[0]}`);
    const samples = await runSuite(
      [...cs, ...heads].map((c) => ({ name: c.name, fn: async () => c.run() })),
      { rounds, maxTime: 1 },
    );
    const lines = [
      `### ${name} (${path}, 513x513, class map sha256 ${shas[0]!.slice(0, 16)}…${integer ? ', = TFLite' : ''})`,
      '',
      '| plan | order | planned peak (B) | measured peak (B) | WebAssembly memory (B) | median latency (ms) | samples |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const c of cs) {
      const m = c.executor.memoryReport();
      const s = samples.get(c.name)!;
      lines.push(
        `| ${c.name} | ${c.plan.orderAlgorithm} | ${groupDigits(c.plan.peakBytes)} | ${groupDigits(m.measuredPeakBytes)} | ${groupDigits(m.wasmMemoryBytes)} | ${median(s).toFixed(1)} | ${s.length} |`,
      );
    }
    lines.push(
      '',
      heads.map((h) => `${h.name}: median ${median(samples.get(h.name)!).toFixed(1)} ms`).join('; ') +
        ' (33x33x21 logits → 513x513 class ids).',
    );
    sections.push(lines.join('\n'));
    console.log(lines.join('\n') + '\n');
  }
}
const body = [
  'Latency: one image through the graph, medians of interleaved rounds. Measured peak: highest arena byte written (canary scan), which the planner predicts; with the fused head nothing runs outside the arena.',
  '',
  ...sections,
].join('\n');
if (write)
  appendResults('Mobile DeepLabv3: memory and latency by plan', `npx tsx bench/segment.ts --rounds ${rounds}`, body);
