// lowwater/web in headless Chromium, bundled as a user's bundler would (esbuild, the kernels as a file URL):
// every fixture image decoded in the page (PNG/JPEG in JavaScript, no canvas) and classified on the main
// thread and in a Web Worker. PNG outputs equal Node's byte for byte, JPEGs give Node's top-1. The README's
// browser snippet runs as printed.
import t from 'tap';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/index.js';
import { REPO_ROOT, fixturePath, skipUnless } from '../helpers/fixtures.js';
import { readmeSnippet } from '../helpers/readme.js';
import { chromiumSkip, servePage, withChromium } from './chromium.js';

const MODEL = 'mobilenet_v2_1.0_224_quant.tflite';

/** The page's code: imports the package by name, as an application would. */
const APP = `import { loadModel } from 'lowwater/web';
import kernels from 'lowwater/kernels.wasm';
let model;
globalThis.classifyAll = async (names) => {
  model ??= await loadModel(await fetch('/${MODEL}'), { kernels: new URL(kernels, import.meta.url) });
  const out = [];
  for (const name of names) {
    const r = await model.classify(await fetch('/images/' + name), { top: 5 });
    out.push({ name, output: Array.from(r.output), top: r.top.map((e) => e.index), arena: r.memory.arenaBytes, sha: r.inputSha256 });
  }
  return out;
};
`;

/** Bundles `code` (placed in the repository, so 'lowwater/web' resolves to this checkout's package) into `outdir`. */
async function bundle(code: string, outdir: string, name: string): Promise<void> {
  const entry = join(outdir, `${name}.src.js`);
  writeFileSync(entry, code);
  await build({
    entryPoints: { [name]: entry },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir,
    loader: { '.wasm': 'file' },
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
  });
}

t.test(
  'lowwater/web in Chromium: main thread and Worker, every fixture image, as Node gives',
  { skip: chromiumSkip() || skipUnless('models', MODEL) },
  async (t) => {
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'chromium-'));
    await bundle(APP, dir, 'app');
    const images = readdirSync(fixturePath('images')).filter((f) => /\.(png|jpe?g)$/.test(f) && !f.includes('mask'));
    const files: Record<string, Uint8Array> = { [`/${MODEL}`]: readFileSync(fixturePath('models', MODEL)) };
    for (const f of images) files[`/images/${f}`] = readFileSync(fixturePath('images', f));
    const node = await loadModel(fixturePath('models', MODEL));
    const want = new Map<string, { output: number[]; top: number[] }>();
    for (const f of images) {
      const r = await node.classify(fixturePath('images', f), { top: 5 });
      want.set(f, { output: Array.from(r.output), top: r.top.map((e) => e.index) });
    }
    const site = await servePage(dir, { files });
    try {
      await withChromium(async (browser) => {
        const page = await browser.open(site.url('/'));
        const load = async (url: string) => {
          await import(url);
        };
        await page.evaluate(load, '/app.js');
        const worker = await page.worker();
        await worker.evaluate(load, '/app.js');
        for (const [where, realm] of [
          ['main thread', page],
          ['Worker', worker],
        ] as const) {
          const got = await realm.evaluate(
            (names: string[]) =>
              (globalThis as unknown as { classifyAll(n: string[]): Promise<unknown> }).classifyAll(names),
            images,
          );
          for (const r of got as { name: string; output: number[]; top: number[]; arena: number }[]) {
            const w = want.get(r.name)!;
            if (r.name.endsWith('.png')) t.same(r.output, w.output, `${where}, ${r.name}: output bytes equal Node's`);
            else t.equal(r.top[0], w.top[0], `${where}, ${r.name}: Node's top-1`);
            t.equal(r.arena, node.memory().arenaBytes, `${where}, ${r.name}: the same arena`);
          }
        }
        t.same(page.errors, [], 'no console errors, uncaught exceptions or failed requests');
      });
    } finally {
      await site.close();
    }
  },
);

t.test(
  'README browser snippet runs in Chromium as printed',
  { skip: chromiumSkip() || skipUnless('models', MODEL) },
  async (t) => {
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'chromium-readme-'));
    await bundle(readmeSnippet('browser'), dir, 'snippet');
    const photo = readFileSync(fixturePath('images', 'cat.png'));
    const page =
      '<!doctype html><meta charset="utf-8"><body>loading</body><script type="module" src="snippet.js"></script>';
    const site = await servePage(dir, {
      files: { '/index.html': page, [`/${MODEL}`]: readFileSync(fixturePath('models', MODEL)), '/photo.png': photo },
    });
    const node = await (await loadModel(fixturePath('models', MODEL))).classify(fixturePath('images', 'cat.png'));
    try {
      await withChromium(async (browser) => {
        const p = await browser.open(site.url('/index.html'));
        await p.page.waitForFunction(() => document.body.textContent !== 'loading', null, { timeout: 60_000 });
        const text = await p.page.evaluate(() => document.body.textContent);
        t.equal(text, `${node.top[0]!.index}: ${node.top[0]!.score}`, 'the page shows Node’s top-1 and score');
        t.same(p.errors, []);
      });
    } finally {
      await site.close();
    }
  },
);
