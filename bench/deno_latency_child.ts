/**
 * The Deno side of bench/deno_latency.ts: loads the model with lowwater/web (kernels from
 * the default URL), then classifies the image once per line "run" on stdin and answers each
 * with one JSON line { latencyMs, classifyMs } (the network run; the whole classify call from
 * the encoded bytes). Exits at end of input.
 *
 *   deno run --allow-read=<wasm>,<model>,<image> bench/deno_latency_child.ts <model.tflite> <image>
 */
import { loadModel } from 'lowwater/web';

// The parts of Deno's global this program uses (tsc has Node's types, not Deno's).
declare const Deno: {
  args: string[];
  readFile(path: string): Promise<Uint8Array>;
  stdin: { readable: ReadableStream<Uint8Array> };
  version: { deno: string; v8: string };
};

const [modelPath, imagePath] = Deno.args;
if (!modelPath || !imagePath) throw new Error('usage: deno_latency_child.ts <model.tflite> <image>');
const model = await loadModel(await Deno.readFile(modelPath));
const image = await Deno.readFile(imagePath);
console.log(JSON.stringify({ ready: true, deno: Deno.version.deno, v8: Deno.version.v8 }));

let pending = '';
const decoder = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line !== 'run') throw new Error(`unknown command '${line}'`);
    const t0 = performance.now();
    const r = await model.classify(image, { top: 1 });
    const classifyMs = performance.now() - t0;
    console.log(JSON.stringify({ latencyMs: r.latencyMs, classifyMs, top1: r.top[0]!.index }));
  }
}
