/**
 * What the example edge worker (examples/edge-worker) costs in workerd, run
 * through miniflare on this machine: the script's size (each module raw and
 * gzipped, against Workers' compressed-size limits), the model's setup
 * (loadModel: import, plan, weights) timed from outside and by the isolate's
 * own clock, per-request latency (median of --requests), the memory report
 * the worker returns, and the isolate's heap after a forced GC (read through
 * workerd's DevTools protocol). Prints a Markdown summary; writes nothing.
 *
 *   node --experimental-websocket --import tsx bench/edge_worker.ts [--requests N]
 *
 * (Node 22 has WebSocket without the flag; without WebSocket the heap figures are left out.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { loadModel } from '../src/index.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { bundleEdgeWorker, distProblem, startEdgeWorker } from '../test/helpers/edge_worker.js';
import { median } from './results.js';

const argv = process.argv.slice(2);
const requests = Number(argv.includes('--requests') ? argv[argv.indexOf('--requests') + 1] : 15);
const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const LABELS = 'imagenet_labels.txt';
const stale = distProblem();
if (stale) {
  console.error(`bench: ${stale}`);
  process.exit(2);
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Resident memory of the workerd processes this script started (miniflare runs one). */
function workerdRss(): number {
  let pids: string[] = [];
  try {
    pids = execFileSync('pgrep', ['-P', String(process.pid), 'workerd'], { encoding: 'utf8' })
      .trim()
      .split('\n');
  } catch {
    return NaN;
  }
  let kb = 0;
  for (const pid of pids.filter(Boolean)) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    kb += Number(m?.[1] ?? 0);
  }
  return kb * 1024;
}

/** A free TCP port on the loopback address (for workerd's inspector, which needs a port given). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  backingStorageSize: number;
}

/** The user worker's isolate through workerd's inspector: its heap usage after a full GC (undefined without WebSocket). */
async function inspectIsolate(
  port: number,
  wake: URL,
): Promise<{ heap(): Promise<HeapUsage>; close(): void } | undefined> {
  if (typeof WebSocket === 'undefined') return undefined;
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.id.startsWith('core:user:'));
  if (!target) throw new Error(`no user worker among the inspector's targets ${targets.map((t) => t.id).join(', ')}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (event: MessageEvent) => {
    const m = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  };
  const call = (method: string) =>
    new Promise<unknown>((resolve) => {
      pending.set(++next, resolve);
      ws.send(JSON.stringify({ id: next, method, params: {} }));
    });
  // workerd answers the heap calls only once the Runtime domain is enabled.
  await call('Runtime.enable');
  return {
    async heap() {
      // workerd runs the collection when the isolate next gets a task: requests wake it until it answers.
      let collected = false;
      const gc = call('HeapProfiler.collectGarbage').then(() => (collected = true));
      while (!collected) {
        await (await fetch(wake)).text();
        await Promise.race([gc, new Promise((r) => setTimeout(r, 50))]);
      }
      return (await call('Runtime.getHeapUsage')) as HeapUsage;
    },
    close: () => ws.close(),
  };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

const files = {
  [`./models/${Q8}`]: fixturePath('models', Q8),
  [`./models/${LABELS}`]: fixturePath('labels', LABELS),
};

// Script size: the JavaScript minified (as `wrangler deploy --minify` sends it) and every module, gzipped.
const minified = await bundleEdgeWorker({ files, minify: true });
const rows: [string, number, number][] = [
  ['worker.js (bundle, minified)', minified.js.length, gzipSync(minified.js).length],
];
for (const m of minified.modules)
  rows.push([`${m.name.slice(2)} (${m.type})`, m.contents.length, gzipSync(m.contents).length]);
const total = rows.reduce((s, r) => s + r[2], 0);

const bundle = await bundleEdgeWorker({ files });
const inspectorPort = await freePort();
const [{ mf, url }, startMs] = await timed(() => startEdgeWorker(bundle, { inspectorPort }));
try {
  const isolate = await inspectIsolate(inspectorPort, url);
  const heapText = (h: HeapUsage) =>
    `JS heap ${mib(h.usedSize)} used of ${mib(h.totalSize)}, ArrayBuffer backing stores ${mib(h.backingStorageSize)}`;
  const heaps: string[] = [];
  const rssIdle = workerdRss();
  if (isolate) heaps.push(`before the load: ${heapText(await isolate.heap())}`);
  const [info, coldMs] = await timed(async () => (await fetch(new URL('/model', url))).json() as Promise<any>);
  const rssLoaded = workerdRss();
  if (isolate) heaps.push(`after the load: ${heapText(await isolate.heap())}`);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push((await timed(async () => (await fetch(new URL('/model', url))).text()))[1]);

  const perImage: string[] = [];
  const served: HeapUsage[] = [];
  let memory: Record<string, number> = {};
  for (const image of ['cat.png', 'cat_720p.jpg']) {
    const body = readFileSync(fixturePath('images', image));
    const outside: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i < requests; i++) {
      const [r, t] = await timed(
        async () => (await fetch(url, { method: 'POST', body })).json() as Promise<{ latencyMs: number; memory: any }>,
      );
      outside.push(t);
      inside.push(r.latencyMs);
      memory = r.memory;
      if (isolate && i % 5 === 4) served.push(await isolate.heap());
    }
    perImage.push(
      `| ${image} (${kib(body.length)}) | ${ms(median(outside))} | ${ms(median(inside))} | ${inside.every((v) => Number.isInteger(v)) ? 'whole ms' : 'sub-ms'} |`,
    );
  }
  const rssServed = workerdRss();
  if (isolate) {
    const range = (k: keyof HeapUsage) =>
      `${mib(Math.min(...served.map((h) => h[k])))}–${mib(Math.max(...served.map((h) => h[k])))}`;
    heaps.push(
      `while serving (after every 5th request): JS heap ${range('usedSize')} used, backing stores ${range('backingStorageSize')}`,
    );
    isolate.close();
  } else heaps.push('not measured: this Node has no WebSocket (Node 20: run with --experimental-websocket)');

  const node = await loadModel(fixturePath('models', Q8));
  const nodeLatency: number[] = [];
  for (let i = 0; i < requests; i++)
    nodeLatency.push((await node.classify(fixturePath('images', 'cat.png'))).latencyMs);

  console.log(`## Edge worker in workerd (miniflare ${JSON.parse(readFileSync('node_modules/miniflare/package.json', 'utf8')).version}), ${new Date().toISOString().slice(0, 10)}

Script size (gzip level 6, per module; Workers limits, compressed: Free 3 MB, Paid 10 MB):

| module | raw | gzip |
| --- | --- | --- |
${rows.map(([n, raw, gz]) => `| ${n} | ${kib(raw)} | ${kib(gz)} |`).join('\n')}
| **total** | ${kib(rows.reduce((s, r) => s + r[1], 0))} | **${kib(total)} (${(total / 1e6).toFixed(2)} MB)** |

Setup (loadModel in the worker: import, plan, weights), first request of the isolate:

- miniflare start until it serves (workerd, script, CompiledWasm): ${ms(startMs)}
- cold GET /model from outside: ${ms(coldMs)}; warm GET /model median: ${ms(median(warm))}; so setup ≈ ${ms(coldMs - median(warm))}
- inside the isolate: setupMs ${info.setupMs} ms, of which planning ${info.planningMs} ms

Per request (POST, ${requests} requests each; outside = HTTP round trip incl. decode, resize, JSON):

| image | median outside | median latencyMs inside (network run) | clock inside |
| --- | --- | --- | --- |
${perImage.join('\n')}
| Node entry, same model, cat.png | | ${ms(median(nodeLatency))} | |

Memory the worker reports: arena ${memory.arenaBytes} B (planned peak ${memory.plannedPeakBytes} B, measured peak ${memory.measuredPeakBytes} B), weights ${memory.weightsBytes} B, WebAssembly memory ${memory.wasmMemoryBytes} B (${mib(memory.wasmMemoryBytes!)}).
The worker's isolate after a forced GC (128 MB is Workers' limit per isolate):
${heaps.map((h) => `- ${h}`).join('\n')}

workerd resident memory (the whole process, miniflare's own services included): ${mib(rssIdle)} before the load, ${mib(rssLoaded)} after it, ${mib(rssServed)} after ${2 * requests} requests.`);
} finally {
  await mf.dispose();
}
