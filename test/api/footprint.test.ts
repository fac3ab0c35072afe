// The whole footprint of a loaded model, measured in a child process of plain node with --expose-gc on the
// built package (dist/index.js), as a user runs it: the WebAssembly memory against the weights at their
// stored width and the plan's arena, and the JS ArrayBuffers the runtime keeps after load + one run + GC.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveModel } from '../../src/load_model.js';
import { DTYPE_BYTES } from '../../planner/ir.js';
import { REPO_ROOT, fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const exec = promisify(execFile);

/** Loads `model` (undefined: the default), runs one grey image, and reports memory after GC at each stage. */
const CHILD = `
const [model] = process.argv.slice(2);
const snap = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss, arrayBuffers: m.arrayBuffers }; };
const before = snap();
const { loadModel } = await import(${JSON.stringify(join(REPO_ROOT, 'dist', 'index.js'))});
const imported = snap();
const m = await loadModel(model === '-' ? undefined : model);
const { width, height } = m.info.input;
const image = { data: new Uint8Array(width * height * 3).fill(128), width, height, channels: 3 };
const { memory } = m.info.tasks[0] === 'segment' ? await m.segment(image) : await m.classify(image);
image.data = null; // the caller's image and results are not the runtime's
await new Promise((res) => setTimeout(res, 100));
const ran = snap();
console.log(JSON.stringify({ before, imported, ran, memory, arena: m.plan.plan.arenaBytes }));
`;

interface Report {
  before: { rss: number; arrayBuffers: number };
  imported: { rss: number; arrayBuffers: number };
  ran: { rss: number; arrayBuffers: number };
  memory: {
    wasmMemoryBytes: number;
    arenaBytes: number;
    footprint: { wasmMemoryBytes: number; weightsBytes: number; jsRetainedBytes: number; kernelModuleBytes: number };
  };
  arena: number;
}

async function measure(model: string | undefined): Promise<Report> {
  mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
  const script = join(REPO_ROOT, '.tap', 'footprint-child.mjs');
  writeFileSync(script, CHILD);
  const { stdout } = await exec(process.execPath, ['--expose-gc', script, model ?? '-']);
  return JSON.parse(stdout) as Report;
}

/** Bytes of the model's constants at the width the file stores them (float32 for the float default). */
async function storedWeightBytes(model: string | undefined): Promise<number> {
  const r = await resolveModel(model);
  const bytes = r.model.graph.tensors
    .filter((x) => x.constant)
    .reduce((n, x) => n + x.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[x.dtype], 0);
  r.model.constants.release?.();
  return bytes;
}

const built = skipWithout(existsSync(join(REPO_ROOT, 'dist', 'index.js')) ? false : 'the build (npm ci)');

t.test(
  'int8 MobileNetV2: WebAssembly memory ≤ 4 MiB, no ArrayBuffer kept',
  { skip: built || skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const r = await measure(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
    t.ok(r.memory.wasmMemoryBytes <= 4_194_304, `WebAssembly memory ${r.memory.wasmMemoryBytes} ≤ 4,194,304`);
    const kept = r.ran.arrayBuffers - r.before.arrayBuffers;
    t.ok(kept <= 262_144, `ArrayBuffers after load + one run + GC grew by ${kept} ≤ 262,144 B`);
    t.equal(r.memory.footprint.jsRetainedBytes, 0, 'the runtime reports no JS bytes kept');
    t.ok(r.memory.footprint.kernelModuleBytes > 10_000, 'the kernel module’s size is reported');
    t.comment(
      `RSS over the process before import: import ${((r.imported.rss - r.before.rss) / 1e6).toFixed(1)} MB, after load + run ${((r.ran.rss - r.before.rss) / 1e6).toFixed(1)} MB`,
    );
  },
);

for (const [name, model] of [['the float default (nsfwjs MobileNetV2)', undefined]] as const) {
  t.test(
    `${name}: WebAssembly memory ≤ weights at their stored width + arena + 128 KiB; ≤ 256 KiB of JS kept`,
    { skip: built || (model ? skipUnless('models', model) : false) },
    async (t) => {
      const path = model ? fixturePath('models', model) : undefined;
      const [r, stored] = [await measure(path), await storedWeightBytes(path)];
      const limit = stored + r.arena + 131_072;
      t.ok(
        r.memory.wasmMemoryBytes <= limit,
        `WebAssembly memory ${r.memory.wasmMemoryBytes} ≤ ${stored} + ${r.arena} + 131,072 = ${limit}`,
      );
      const kept = r.ran.arrayBuffers - r.before.arrayBuffers;
      t.ok(kept <= 262_144, `ArrayBuffers grew by ${kept} ≤ 262,144 B`);
      t.ok(
        r.memory.footprint.jsRetainedBytes <= 262_144,
        `runtime-reported JS bytes kept ${r.memory.footprint.jsRetainedBytes}`,
      );
    },
  );
}
