// `npm run prepare` (npm ci, npm install, npm pack, and npx in this folder): builds unless the build is
// already newer than every source. npx run in the package's own folder installs the folder into its cache
// and runs prepare there; without this check every first `npx lowwater` rebuilt the kernels, the bundles
// and the default model (about a minute) before classifying.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outputs = [
  'build/lowwater.wasm',
  'build/lowwater.debug.wasm',
  'build/lowwater.threads.wasm',
  'build/models/nsfw_mobilenet_v2/model.json',
  'dist/index.js',
  'dist/web.js',
  'dist/main.js',
  'dist/src/index.d.ts',
  'dist/src/web.d.ts',
];
const sourceDirs = ['assembly', 'src', 'planner', 'models'];
const sourceFiles = ['package.json', 'package-lock.json', 'tsconfig.json', 'asconfig.json'];

/** Newest modification time of the files under `dir`. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale() {
  if (!outputs.every((f) => existsSync(join(root, f)))) return 'not built yet';
  const built = Math.min(...outputs.map((f) => statSync(join(root, f)).mtimeMs));
  const changed = Math.max(
    ...sourceDirs.map((d) => newest(join(root, d))),
    ...sourceFiles.filter((f) => existsSync(join(root, f))).map((f) => statSync(join(root, f)).mtimeMs),
  );
  return changed > built ? 'sources changed since the last build' : '';
}

const why = process.env.LOWWATER_FORCE_BUILD ? 'LOWWATER_FORCE_BUILD is set' : stale();
if (!why) {
  console.error('lowwater: the build is up to date (set LOWWATER_FORCE_BUILD=1 to build anyway)');
} else {
  console.error(`lowwater: building (${why})`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
