/**
 * A Deno program, as a Deno user writes one: lowwater imported by its package name
 * through this checkout's node_modules, the kernels left to the web entry's default
 * (fetched as a file: URL from beside the module, which needs read permission on
 * build/lowwater.wasm and nothing else). Classifies each image from its encoded
 * bytes and prints one JSON object on stdout.
 *
 *   deno run --allow-read=<files> test/web/deno_classify.ts <model.tflite> <image>...
 *
 * Run by test/web/deno.test.ts; `tsc` type-checks it with the declaration below.
 */
import { loadModel } from 'lowwater/web';

// The parts of Deno's global this program uses (tsc has Node's types, not Deno's).
declare const Deno: {
  args: string[];
  readFile(path: string): Promise<Uint8Array>;
  version: { deno: string };
};

const [modelPath, ...imagePaths] = Deno.args;
if (!modelPath || imagePaths.length === 0) throw new Error('usage: deno_classify.ts <model.tflite> <image>...');

// Under the `deno` export condition the bare package name is the web entry, the same module instance.
const bare = (await import('lowwater')) as { loadModel?: unknown };

const model = await loadModel(await Deno.readFile(modelPath));
const results = [];
for (const path of imagePaths) {
  const r = await model.classify(await Deno.readFile(path), { top: 1 });
  results.push({
    image: path,
    top1: r.top[0]!.index,
    dtype: r.output.constructor.name,
    output: Array.from(r.output),
    inputSha256: r.inputSha256,
    memory: r.memory,
  });
}
console.log(
  JSON.stringify({
    deno: Deno.version.deno,
    resolved: {
      lowwater: import.meta.resolve('lowwater'),
      web: import.meta.resolve('lowwater/web'),
      kernels: import.meta.resolve('lowwater/kernels.wasm'),
    },
    bareIsWeb: bare.loadModel === loadModel,
    results,
  }),
);
