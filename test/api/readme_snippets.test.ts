// The README's Node snippet, run as it is printed: beside a photo.jpg and the int8 model, importing the
// package by its name (this checkout's build, through the package's self-reference).
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, fixturePath, skipUnless } from '../helpers/fixtures.js';
import { readmeSnippet } from '../helpers/readme.js';

const exec = promisify(execFile);

t.test(
  'README Node snippet runs and prints what it says',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'snippet-'));
    symlinkSync(fixturePath('images', 'cat_720p.jpg'), join(dir, 'photo.jpg'));
    symlinkSync(
      fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
      join(dir, 'mobilenet_v2_1.0_224_quant.tflite'),
    );
    const code = readmeSnippet('node');
    writeFileSync(join(dir, 'snippet.mjs'), code);
    const { stdout } = await exec(process.execPath, ['snippet.mjs'], { cwd: dir });
    t.match(stdout, /\[ '(Drawing|Hentai|Neutral|Porn|Sexy) \d\.\d{3}'/, 'the default model’s top classes');
    t.match(stdout, /\d+\.\d ms/);
    t.match(stdout, /index: \d+/, 'the int8 model’s top-1');
    t.match(stdout, /wasmMemoryBytes: \d+/, 'and its footprint');
  },
);

t.test(
  'README batch snippet: each photo on a line, a file that is not an image on stderr',
  { skip: skipUnless('images', 'cat.png') },
  async (t) => {
    mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'snippet-'));
    mkdirSync(join(dir, 'photos'));
    symlinkSync(fixturePath('images', 'cat.png'), join(dir, 'photos', 'a.png'));
    symlinkSync(fixturePath('images', 'parrot.jpg'), join(dir, 'photos', 'b.jpg'));
    writeFileSync(join(dir, 'photos', 'c.jpg'), 'not a JPEG');
    writeFileSync(join(dir, 'batch.mjs'), readmeSnippet('node-batch'));
    const { stdout, stderr } = await exec(process.execPath, ['batch.mjs'], { cwd: dir });
    t.match(
      stdout,
      /^photos\/a\.png (Drawing|Hentai|Neutral|Porn|Sexy) \d\.\d{3}\nphotos\/b\.jpg \w+ \d\.\d{3}\n$/,
      'in order',
    );
    t.match(stderr, /cannot decode image 'photos\/c\.jpg'/);
  },
);

t.test(
  'README threads snippet: two threads, the top class, and what the second thread adds to the arena',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'snippet-'));
    symlinkSync(fixturePath('images', 'cat_720p.jpg'), join(dir, 'photo.jpg'));
    symlinkSync(
      fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
      join(dir, 'mobilenet_v2_1.0_224_quant.tflite'),
    );
    writeFileSync(join(dir, 'threads.mjs'), readmeSnippet('node-threads'));
    const { stdout } = await exec(process.execPath, ['threads.mjs'], { cwd: dir });
    t.match(stdout, /^\d+ \d+\.\d ms \{/, 'the top class and the latency');
    t.match(stdout, /count: 2/, 'two threads');
    t.match(stdout, /extraBytes: [1-9]\d*/, 'the arena the second thread adds');
  },
);
