// The web entry in Deno, imported as a Deno user imports it (by package name, through node_modules),
// against the Node entry on the same model and images: byte-equal outputs on PNGs, the same top-1
// on JPEGs (jpeg-js is not libjpeg-turbo), the same memory report.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { loadModel } from '../../src/index.js';
import type { MemoryReport } from '../../src/index.js';
import { denoBinary, DENO_RUN_FLAGS, runDeno } from '../helpers/deno.js';
import { fixturePath, REPO_ROOT, skipUnless, skipWithout } from '../helpers/fixtures.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const PROGRAM = join('test', 'web', 'deno_classify.ts');
const WASM = join(REPO_ROOT, 'build', 'lowwater.wasm');
const WEB_JS = join(REPO_ROOT, 'dist', 'web.js');
// Generous: the program takes about a second; a loaded machine may take many times that.
const TIMEOUT_MS = 180_000;

const deno = denoBinary();

function missing(): false | string {
  if (!deno) return 'the deno binary from the npm package `deno` (a devDependency): run npm ci';
  if (!existsSync(WASM) || !existsSync(WEB_JS)) return 'the build (build/lowwater.wasm, dist/web.js): run npm ci';
  if (!existsSync(join(REPO_ROOT, 'node_modules', 'lowwater', 'package.json')))
    return 'node_modules/lowwater (the checkout as its own devDependency): run npm ci';
  return false;
}
const skip = skipWithout(missing()) || skipUnless('models', Q8) || skipUnless('images');

interface DenoOutput {
  deno: string;
  resolved: { lowwater: string; web: string; kernels: string };
  bareIsWeb: boolean;
  results: {
    image: string;
    top1: number;
    dtype: string;
    output: number[];
    inputSha256: string;
    memory: MemoryReport;
  }[];
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Runs the Deno program with read permission on exactly `readable`; the child is killed if the test ends first. */
async function runProgram(t: Test, readable: string[], args: string[]) {
  const denoDir = mkdtempSync(join(tmpdir(), 'lowwater-deno-'));
  let child: ChildProcess | undefined;
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(denoDir, { recursive: true, force: true });
  });
  const run = runDeno(deno!, ['run', ...DENO_RUN_FLAGS, `--allow-read=${readable.join(',')}`, PROGRAM, ...args], {
    cwd: REPO_ROOT,
    denoDir,
    timeoutMs: TIMEOUT_MS,
  });
  child = run.child;
  return run.done;
}

t.test(
  'Deno: lowwater/web by package name classifies every fixture image as the Node entry does',
  { skip },
  async (t) => {
    const images = readdirSync(fixturePath('images'))
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .sort();
    const pngs = images.filter((f) => f.toLowerCase().endsWith('.png'));
    t.ok(pngs.length > 0 && pngs.length < images.length, 'the fixtures have PNG and JPEG images');
    const model = fixturePath('models', Q8);
    const paths = images.map((f) => fixturePath('images', f));

    const r = await runProgram(t, [WASM, model, ...paths], [model, ...paths]);
    t.equal(r.code, 0, `deno exits 0${r.code === 0 ? '' : `: ${r.stderr}`}`);
    if (r.code !== 0) return;
    const out = JSON.parse(r.stdout) as DenoOutput;
    t.comment(`Deno ${out.deno}`);

    const webUrl = pathToFileURL(realpathSync(WEB_JS)).href;
    t.equal(out.resolved.web, webUrl, "'lowwater/web' resolves to dist/web.js through node_modules");
    t.equal(out.resolved.lowwater, webUrl, "'lowwater' resolves to the web entry under the deno condition");
    t.equal(out.bareIsWeb, true, "'lowwater' and 'lowwater/web' are the same module instance");
    t.equal(out.resolved.kernels, pathToFileURL(realpathSync(WASM)).href, "'lowwater/kernels.wasm' is the build");
    t.same(
      out.results.map((x) => x.image),
      paths,
      'a result for every image, in order',
    );

    const node = await loadModel(model);
    for (const [i, f] of images.entries()) {
      const d = out.results[i]!;
      const n = await node.classify(paths[i]!, { top: 1 });
      t.same(
        d.memory,
        n.memory,
        `${f}: the same memory report (arena ${n.memory.arenaBytes} B, weights ${n.memory.weightsBytes} B)`,
      );
      if (pngs.includes(f)) {
        t.equal(d.dtype, n.output.constructor.name, `${f}: output type ${d.dtype}`);
        t.equal(d.inputSha256, n.inputSha256, `${f}: the same model input bytes`);
        const denoOutput = new (n.output.constructor as new (values: number[]) => typeof n.output)(d.output);
        t.ok(bytesOf(denoOutput).equals(bytesOf(n.output)), `${f}: output bytes equal (${n.output.length} values)`);
      } else t.equal(d.top1, n.top[0]!.index, `${f}: same top-1 (${n.top[0]!.index})`);
    }
    node.dispose();
  },
);

t.test('Deno: the kernels are fetched from the default file: URL beside the module', { skip }, async (t) => {
  // Without read permission on build/lowwater.wasm the default fetch is refused: the kernels come
  // from that URL (Deno's fetch reads file: URLs under --allow-read), not from elsewhere.
  const model = fixturePath('models', Q8);
  const image = fixturePath('images', 'cat.png');
  const r = await runProgram(t, [model, image], [model, image]);
  t.not(r.code, 0, 'deno fails');
  t.match(
    r.stderr,
    /NotCapable: Requires read access to "[^"]*build\/lowwater\.wasm"/,
    'on reading build/lowwater.wasm',
  );
});
