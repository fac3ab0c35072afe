// The example edge worker (examples/edge-worker) in workerd, through miniflare: bundled as wrangler
// bundles it, given the fixture model, and compared with the Node entry on every fixture image.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { loadModel } from '../../src/index.js';
import { kernelWasmPath } from '../../src/kernels/node_loader.js';
import { fixturePath, REPO_ROOT, skipUnless, skipWithout } from '../helpers/fixtures.js';
import { bundleEdgeWorker, distProblem, startEdgeWorker } from '../helpers/edge_worker.js';
import { readmeSnippet } from '../helpers/readme.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const LABELS = 'imagenet_labels.txt';
const hasMiniflare = existsSync(join(REPO_ROOT, 'node_modules', 'miniflare', 'package.json'));

const skip =
  skipUnless('models', Q8) ||
  skipUnless('labels', LABELS) ||
  skipUnless('images') ||
  skipWithout(hasMiniflare ? false : 'the npm package miniflare (a devDependency: `npm ci` installs it)') ||
  skipWithout(distProblem());

interface WorkerClass {
  index: number;
  label: string;
  score: number;
}
interface WorkerResult {
  top: WorkerClass[];
  inputSha256: string;
  latencyMs: number;
  memory: Record<string, number>;
  path: string;
  coldStart: boolean;
  setupMs: number;
  output?: number[];
}

t.test('the example worker in workerd gives the Node entry’s results', { skip }, async (t) => {
  const bundle = await bundleEdgeWorker({
    files: {
      [`./models/${Q8}`]: fixturePath('models', Q8),
      [`./models/${LABELS}`]: fixturePath('labels', LABELS),
    },
  });
  t.same(
    bundle.modules.map((m) => [m.name, m.type]),
    [
      ['./lowwater.wasm', 'CompiledWasm'],
      [`./${Q8}`, 'Data'],
      [`./${LABELS}`, 'Text'],
    ],
    'the kernels, the model and the labels are modules of their own, typed by the wrangler.toml rules',
  );
  t.ok(
    Buffer.from(bundle.modules[0]!.contents).equals(readFileSync(kernelWasmPath())),
    'lowwater/kernels.wasm resolves to the kernels the Node entry runs',
  );
  const imports = [...bundle.js.matchAll(/^import\s.*?from\s*"([^"]+)";?$/gm)].map((m) => m[1]);
  t.same(
    imports.sort(),
    bundle.modules.map((m) => m.name).sort(),
    'the bundle imports nothing else (no Node built-in)',
  );

  const { mf, url } = await startEdgeWorker(bundle);
  let disposed = false;
  t.teardown(async () => {
    if (!disposed) await mf.dispose();
  });
  t.equal(url.hostname, '127.0.0.1', 'workerd listens on the loopback address');

  const node = await loadModel(fixturePath('models', Q8), { labels: fixturePath('labels', LABELS) });
  const post = async (body: BodyInit, query = ''): Promise<Response> =>
    fetch(new URL(`/${query}`, url), { method: 'POST', body });

  t.test('GET / is the usage text; GET /model loads the model and describes its plan', async (t) => {
    const usage = await fetch(url);
    t.equal(usage.status, 200);
    t.match(await usage.text(), /curl --data-binary @/);
    const res = await fetch(new URL('/model', url));
    t.equal(res.status, 200);
    const info = (await res.json()) as Record<string, any>;
    t.equal(info.path, node.info.pathDescription, 'the integer path, as in Node');
    t.match(info.path, /^integer/);
    t.equal(info.labels, 1001, 'the labels module was read');
    t.same(info.chunks, node.info.chunks, 'the same Section 5.1 chunks as in Node');
    const { measuredPeakBytes: _w, footprint: wf, ...workerMemory } = info.memory;
    const { measuredPeakBytes: _n, footprint: nf, ...nodeMemory } = node.memory();
    t.same(workerMemory, nodeMemory, 'the same arena, weights and WebAssembly memory as in Node');
    const { kernelModuleBytes, ...workerFootprint } = wf;
    const { kernelModuleBytes: _k, ...nodeFootprint } = nf;
    t.same(workerFootprint, nodeFootprint, 'the same footprint');
    t.equal(
      kernelModuleBytes,
      -1,
      'the kernels came in compiled (a CompiledWasm module): their file size is unknown here',
    );
  });

  t.test('every fixture image: PNG outputs equal the Node entry’s, JPEGs the same top-1', async (t) => {
    const images = readdirSync(fixturePath('images'))
      .filter((f) => /\.(png|jpe?g)$/.test(f))
      .sort();
    t.ok(images.some((f) => f.endsWith('.png')) && images.some((f) => f.endsWith('.jpg')), 'PNGs and JPEGs to run');
    const setups = new Set<number>();
    for (const f of images) {
      const res = await post(readFileSync(fixturePath('images', f)), '?raw=1');
      t.equal(res.status, 200, `${f}: 200`);
      const got = (await res.json()) as WorkerResult;
      const want = await node.classify(fixturePath('images', f));
      t.equal(got.coldStart, false, `${f}: the model loaded by GET /model serves this request`);
      setups.add(got.setupMs);
      t.equal(got.top.length, 5, `${f}: top-5`);
      if (f.endsWith('.png')) {
        t.same(got.output, Array.from(want.output), `${f}: output bytes equal`);
        t.same(got.top, want.top, `${f}: the same top-5 indices, labels and scores`);
        t.equal(got.inputSha256, want.inputSha256, `${f}: the same model input`);
      } else t.equal(got.top[0]!.index, want.top[0]!.index, `${f}: the same top-1 (JPEG decoders differ slightly)`);
      t.ok(
        got.memory.measuredPeakBytes! > 0 && got.memory.measuredPeakBytes! <= got.memory.arenaBytes!,
        `${f}: measured peak ${got.memory.measuredPeakBytes} B within the ${got.memory.arenaBytes} B arena`,
      );
    }
    t.equal(setups.size, 1, 'one load for the whole isolate');
    const plain = (await (await post(readFileSync(fixturePath('images', 'cat.png')), '?top=3')).json()) as WorkerResult;
    t.equal(plain.top.length, 3, '?top=3 gives three classes');
    t.equal(plain.output, undefined, 'the output tensor only with ?raw=1');
  });

  t.test('bad requests: 400 or 405 with a JSON message saying what is wrong', async (t) => {
    const text = await post('hello, not an image');
    t.equal(text.status, 400);
    t.match(text.headers.get('content-type'), /^application\/json/);
    t.match(await text.json(), { error: /not a PNG or JPEG image/, detail: /not PNG or JPEG/ });
    const gif = await post(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0]));
    t.match(await gif.json(), { detail: /GIF is not PNG or JPEG/ }, 'a GIF is named as one');
    const png = readFileSync(fixturePath('images', 'cat.png'));
    const cut = await post(png.subarray(0, 100));
    t.equal(cut.status, 400);
    t.match(await cut.json(), { detail: /cannot decode PNG/ }, 'a cut PNG');
    const empty = await post(new Uint8Array(0));
    t.equal(empty.status, 400);
    t.match(await empty.json(), { error: /body is empty/ });
    const top = await post(png, '?top=0');
    t.equal(top.status, 400);
    t.match(await top.json(), { error: /top must be a whole number/ });
    // Content-Length says 9 MiB but only 1 KiB is sent: the answer can only come from the header.
    const big = await new Promise<[number | undefined, string]>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-length': String(9 << 20) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve([res.statusCode, body]);
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    t.equal(big[0], 413, 'a body declared over 8 MiB is refused before it is read');
    t.match(JSON.parse(big[1]), { error: /9437184 bytes; at most 8388608 are accepted/ });
    const put = await fetch(url, { method: 'PUT', body: png });
    t.equal(put.status, 405);
    t.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    await put.arrayBuffer();
  });

  t.test('dispose stops workerd', async (t) => {
    await mf.dispose();
    disposed = true;
    await t.rejects(fetch(url), 'nothing listens any more');
  });
});

t.test('README edge-worker snippet runs in workerd as printed', { skip }, async (t) => {
  mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'worker-snippet-'));
  const entry = join(dir, 'worker.js');
  writeFileSync(entry, readmeSnippet('worker'));
  const bundle = await bundleEdgeWorker({ entry, files: { [`./${Q8}`]: fixturePath('models', Q8) } });
  const { mf, url } = await startEdgeWorker(bundle);
  try {
    const res = await fetch(url, { method: 'POST', body: readFileSync(fixturePath('images', 'cat.png')) });
    t.equal(res.status, 200);
    const got = (await res.json()) as { top: WorkerClass[]; memory: Record<string, number> };
    const node = await (await loadModel(fixturePath('models', Q8))).classify(fixturePath('images', 'cat.png'));
    t.same(
      got.top.map((c) => [c.index, c.score]),
      node.top.map((c) => [c.index, c.score]),
      'the top-5 of the Node entry',
    );
    t.equal(got.memory.arenaBytes, node.memory.arenaBytes);
  } finally {
    await mf.dispose();
  }
});
