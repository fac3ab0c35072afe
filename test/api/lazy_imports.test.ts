// Importing lowwater and running a model from bytes loads neither sharp, nor the CLI, nor any TensorFlow.js
// code: each is loaded where it is first needed. A child process logs every module Node resolves (ESM
// resolve hooks), imports the built package, loads the int8 model from bytes and classifies pixels; then a
// path image, which must bring sharp in.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { REPO_ROOT, fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const exec = promisify(execFile);

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOWWATER_RESOLVE_LOG, r.url + '\\n');
  return r;
}
`;

const REGISTER = (hooks: string) => `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
`;

const CHILD = `import { readFileSync, appendFileSync } from 'node:fs';
const mark = (m) => appendFileSync(process.env.LOWWATER_RESOLVE_LOG, '--- ' + m + '\\n');
const { loadModel } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist', 'index.js')).href)});
const model = await loadModel(readFileSync(process.argv[2]));
await model.classify({ data: new Uint8Array(224 * 224 * 3).fill(90), width: 224, height: 224, channels: 3 });
mark('ran from bytes');
await model.classify(process.argv[3]);
mark('ran a PNG file');
`;

t.test(
  'lowwater loads sharp, the CLI and TensorFlow.js only where they are needed',
  {
    skip:
      skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') ||
      skipWithout(existsSync(join(REPO_ROOT, 'dist', 'index.js')) ? false : 'the build (npm ci)'),
  },
  async (t) => {
    mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'lazy-'));
    const [hooks, register, child, log] = ['hooks.mjs', 'register.mjs', 'child.mjs', 'resolved.log'].map((f) =>
      join(dir, f),
    );
    writeFileSync(hooks, HOOKS);
    writeFileSync(register, REGISTER(hooks!));
    writeFileSync(child, CHILD);
    writeFileSync(log, '');
    await exec(
      process.execPath,
      [
        '--import',
        pathToFileURL(register!).href,
        child!,
        fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
        fixturePath('images', 'cat.png'),
      ],
      { env: { ...process.env, LOWWATER_RESOLVE_LOG: log } },
    );
    const text = readFileSync(log!, 'utf8');
    const [fromBytes, fromFile] = text.split('--- ran from bytes');
    t.ok(fromBytes!.includes('/dist/index.js'), 'the package was resolved (the log works)');
    for (const [what, re] of [
      ['sharp', /node_modules\/sharp\//],
      ['the CLI', /\/dist\/main\.js|\/cli\//],
      ['TensorFlow.js', /@tensorflow\//],
      ['nsfwjs', /node_modules\/nsfwjs\//],
    ] as const)
      t.notMatch(fromBytes!, re, `importing and running from bytes does not load ${what}`);
    t.match(fromFile!, /node_modules\/sharp\//, 'a file path image loads sharp, on first use');
    t.notMatch(fromFile!, /@tensorflow\//, 'still no TensorFlow.js');
  },
);
