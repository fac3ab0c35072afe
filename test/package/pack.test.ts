// The package as a user gets it: `npm pack`, installed from the tarball into an empty folder with no
// network, imported by name from a consumer script that classifies offline with the bundled default
// model, and a consumer .ts file type-checked with `tsc --strict` against the shipped declarations.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel } from '../../src/index.js';
import { REPO_ROOT, fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * package.json and package-lock.json of a consumer depending on the tarball. The lock lists lowwater's
 * dependencies at the versions and integrities of this repository's lock, so `npm ci --offline` takes
 * them from the npm cache the repository's own install filled: no registry is asked.
 */
function consumerLock(tarball: string): { pkg: object; lock: object } {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const dep = { lowwater: `file:${tarball}` };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: dep },
    'node_modules/lowwater': {
      version: own.version,
      resolved: `file:${tarball}`,
      integrity,
      license: own.license,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
  };
  for (const [k, v] of Object.entries(lock.packages))
    if (k.startsWith('node_modules/') && !v.dev && !v.link && k !== 'node_modules/lowwater') packages[k] = v;
  return {
    pkg: { name: 'consumer', version: '1.0.0', type: 'module', private: true, dependencies: dep },
    lock: { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
  };
}

const CONSUMER_JS = `import { loadModel } from 'lowwater';
const model = await loadModel();
const r = await model.classify(process.argv[2], { top: 5 });
console.log(JSON.stringify({ description: model.info.description, top: r.top, output: Array.from(r.output), memory: r.memory }));
`;

const CONSUMER_TS = `import { classifyMany, loadModel, PlanRefusedError, type BatchProgress, type Classification, type Model, type NodeImage } from 'lowwater';
import * as web from 'lowwater/web';

export async function classifyBoth(bytes: Uint8Array): Promise<[Classification, Classification]> {
  const model: Model<NodeImage> = await loadModel(undefined, { chunks: 'auto', budget: '2MiB' });
  const a = await model.classify({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, { top: 3 });
  const onWeb: web.Model<web.WebImage> = await web.loadModel(bytes, { kernels: new URL('https://example.com/k.wasm') });
  const b = await onWeb.classify(new Uint8ClampedArray(16).length ? { data: new Uint8ClampedArray(16), width: 2, height: 2 } : bytes);
  const peak: number = a.memory.footprint.wasmMemoryBytes + b.memory.arenaBytes;
  if (peak < 0) throw new PlanRefusedError('never', 0);
  return [a, b];
}

export async function labelsOf(files: string[]): Promise<string[]> {
  const labels: string[] = [];
  for await (const r of classifyMany(files, { jobs: 2, top: 1, onProgress: (p: BatchProgress) => p.done }))
    labels.push(r.error ?? r.top[0]!.label);
  return labels;
}
`;

t.test(
  'npm pack → install offline in an empty folder → import lowwater and classify with the bundled model',
  {
    skip:
      skipUnless('images', 'cat.png') ||
      skipWithout(readdirSync(join(REPO_ROOT, 'build')).includes('models') ? false : 'the build (npm ci)'),
  },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-pack-'));
    // The build is npm ci's; --ignore-scripts packs it as it is instead of building again.
    const { stdout } = await exec(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
    });
    const packed = JSON.parse(stdout) as { filename: string; size: number; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    t.ok(
      files.includes('dist/index.js') && files.includes('dist/web.js') && files.includes('build/lowwater.wasm'),
      'entries and kernels packed',
    );
    t.ok(
      files.includes('build/models/nsfw_mobilenet_v2/weights.bin') &&
        files.includes('build/models/nsfw_mobilenet_v2/LICENSE'),
      'the default model and its licence packed',
    );
    t.notOk(
      files.some((f) => f.startsWith('test/') || f.startsWith('src/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
      'no sources or tests',
    );
    t.ok(packed[0]!.size < 4e6, `tarball ${packed[0]!.size} bytes`);

    const consumer = join(dir, 'consumer');
    const tarball = join(dir, packed[0]!.filename);
    const { pkg, lock } = consumerLock(tarball);
    await exec('mkdir', ['-p', consumer]);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify(pkg, null, 2));
    writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(lock, null, 2));
    await exec(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer });

    writeFileSync(join(consumer, 'classify.mjs'), CONSUMER_JS);
    const env = {
      ...process.env,
      HOME: dir,
      LOWWATER_CACHE: join(dir, 'cache'),
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
    };
    const run = await exec(process.execPath, ['classify.mjs', fixturePath('images', 'cat.png')], {
      cwd: consumer,
      env,
    });
    const got = JSON.parse(run.stdout);
    const here = await (await loadModel()).classify(fixturePath('images', 'cat.png'), { top: 5 });
    t.match(got.description, /nsfw_mobilenet_v2/);
    t.same(got.output, Array.from(here.output), 'the installed package gives this checkout’s output');
    t.same(
      got.top.map((e: { label: string }) => e.label),
      here.top.map((e) => e.label),
    );

    // The CLI of the installed package, offline.
    const bin = await exec(
      join(consumer, 'node_modules', '.bin', 'lowwater'),
      ['classify', fixturePath('images', 'cat.png'), '--json'],
      { cwd: consumer, env },
    );
    t.equal(
      JSON.parse(bin.stdout).results[0].top[0].label,
      here.top[0]!.label,
      'npx lowwater classify works from the install',
    );
    // A batch runs on the worker bundle (dist/batch_worker.js), which must be packed too.
    const batch = await exec(
      join(consumer, 'node_modules', '.bin', 'lowwater'),
      ['classify', fixturePath('images', 'cat.png'), fixturePath('images', 'bird.png'), '--jobs', '2', '--jsonl'],
      { cwd: consumer, env },
    );
    t.same(
      batch.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { top: { label: string }[] }).top[0]!.label)[0],
      here.top[0]!.label,
      'lowwater classify --jobs 2 --jsonl works from the install',
    );

    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
    const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const args = [
      '--strict',
      '--noEmit',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      'false',
      'consumer.ts',
    ];
    const checked = await exec(tsc, args, { cwd: consumer }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    t.equal(checked, '', 'consumer.ts type-checks with tsc --strict against the shipped types');
    // And the types catch a misuse: a typo in an option is an error.
    writeFileSync(
      join(consumer, 'bad.ts'),
      `import { loadModel } from 'lowwater';\nawait loadModel(undefined, { chunk: 6 });\n`,
    );
    const bad = await exec(tsc, [...args.slice(0, -1), 'bad.ts'], { cwd: consumer }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    t.match(bad, /chunk/, 'an unknown option is a type error');
  },
);
