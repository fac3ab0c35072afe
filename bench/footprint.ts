/**
 * The whole footprint of each engine, not only its arena: process RSS and
 * ArrayBuffers over a bare `node` (same flags), after GC, after importing the
 * engine, after loading the model and after one inference, each engine in its
 * own child process, rounds interleaved (medians).
 *   - int8 MobileNetV2 (mobilenet_v2_1.0_224_quant.tflite): lowwater (integer
 *     path) and TFLite-WASM (tfjs-tflite, XNNPACK, SIMD, 1 thread);
 *   - float MobileNetV2 of nsfwjs: lowwater (its bundled copy),
 *     onnxruntime-web (the same weights as ONNX) and tfjs-backend-wasm.
 * lowwater runs from its built package (dist/index.js), as a user imports it.
 *
 *   npx tsx bench/footprint.ts [--rounds 5] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { appendResults, median } from './results.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { tfliteInstallDir } from './tflite/runner.mjs';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, 'no-write': { type: 'boolean' } },
});
const rounds = Number(values.rounds);
const INT8 = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const ONNX = fixturePath('peers', 'nsfwjs_mobilenet_v2.onnx');
const child = fileURLToPath(new URL('./footprint_child.mjs', import.meta.url));

interface Snap {
  rss: number;
  arrayBuffers: number;
}
interface Out {
  mode: string;
  before: Snap;
  imported?: Snap;
  loaded?: Snap;
  ran?: Snap;
  engine?: Record<string, number>;
}

const engines: { mode: string; label: string; model: string; needs?: () => boolean }[] = [
  { mode: 'lowwater-int8', label: 'lowwater (integer path)', model: INT8 },
  {
    mode: 'tflite-int8',
    label: 'TFLite-WASM (XNNPACK, SIMD, 1 thread)',
    model: INT8,
    needs: () => !!tfliteInstallDir(),
  },
  { mode: 'lowwater-f32', label: 'lowwater (float32)', model: ONNX },
  { mode: 'onnxruntime-web', label: 'onnxruntime-web (WASM, SIMD, 1 thread)', model: ONNX },
  { mode: 'tfjs-wasm', label: 'tfjs-backend-wasm (nsfwjs)', model: ONNX },
];
for (const e of engines) {
  if (e.needs && !e.needs())
    throw new Error(`bench/footprint: ${e.label} is not installed (npm ci --prefix bench/tflite)`);
  if (!existsSync(e.model)) throw new Error(`bench/footprint: ${e.model} is missing (LOWWATER_FIXTURES)`);
}

function once(mode: string, model: string): Out {
  const r = spawnSync(process.execPath, ['--expose-gc', child, mode, model], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Out;
}

const samples = new Map<string, Out[]>([['bare', []], ...engines.map((e) => [e.mode, []] as [string, Out[]])]);
for (let i = 0; i < rounds; i++) {
  const order = ['bare', ...engines.map((e) => e.mode)];
  for (let k = 0; k < order.length; k++) {
    const mode = order[(k + i) % order.length]!;
    samples.get(mode)!.push(once(mode, engines.find((e) => e.mode === mode)?.model ?? INT8));
    console.error(`  round ${i + 1}/${rounds}: ${mode}`);
  }
}

const MB = (b: number) => (b / 1e6).toFixed(1);
const bare = median(samples.get('bare')!.map((o) => o.before.rss));
const rows = engines.map((e) => {
  const s = samples.get(e.mode)!;
  const over = (k: 'imported' | 'loaded' | 'ran') => median(s.map((o) => o[k]!.rss)) - bare;
  const ab = median(s.map((o) => o.ran!.arrayBuffers - o.before.arrayBuffers));
  const wasm = s[0]!.engine?.wasmMemoryBytes;
  return `| ${e.label} | ${MB(over('imported'))} | ${MB(over('loaded'))} | ${MB(over('ran'))} | ${MB(ab)} | ${wasm === undefined ? '–' : MB(wasm)} |`;
});
const body = [
  `Bare \`node --expose-gc\`: RSS ${MB(bare)} MB. Figures are MB (10^6 bytes) over it, after GC, medians of ${rounds} rounds, each engine in its own process, rounds interleaved.`,
  '',
  '| engine | RSS after import | after load | after one run | JS ArrayBuffers kept | WebAssembly memory |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(body);
if (!values['no-write'])
  appendResults(
    'Whole-process footprint: lowwater and its peers',
    `npx tsx bench/footprint.ts --rounds ${rounds}`,
    body,
  );
