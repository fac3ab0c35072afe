// `lowwater classify --jobs/--jsonl`: each JSON line is what single-image `classify --json` gives for that
// file; a corrupt file gives one error line and the rest complete; SIGINT leaves whole lines only; the
// progress line appears on a terminal (a pseudo-terminal from util-linux `script`) and nowhere else.
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { deriveImages } from '../../bench/batch_images.js';
import { fixturePath, REPO_ROOT, skipUnless, skipWithout } from '../helpers/fixtures.js';

const Q8 = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const bin = join(REPO_ROOT, 'bin', 'lowwater.js');
const built = skipWithout(
  existsSync(join(REPO_ROOT, 'dist', 'batch_worker.js'))
    ? false
    : 'dist/ is not built: run `npm run build` (npm ci does it)',
);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

/** `count` derived images with a JPEG cut short among them, named to sort in the middle. */
async function folderWithCorrupt(count: number): Promise<{ dir: string; images: string[]; corrupt: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-batch-'));
  const images = await deriveImages(fixturePath('images'), dir, count);
  const mid = Math.floor(count / 2);
  const corrupt = join(dir, `img${String(mid).padStart(4, '0')}_corrupt.jpg`);
  writeFileSync(corrupt, readFileSync(images[0]!).subarray(0, 1500));
  images.splice(mid + 1, 0, corrupt);
  return { dir, images, corrupt };
}

const withoutLatency = (o: Record<string, unknown>) => ({ ...o, latencyMs: undefined });

for (const [what, model] of [
  ['the int8 TFLite model', ['--model', Q8]],
  ['the default model', []],
] as const) {
  t.test(
    `JSON Lines over a folder (${what}) equal single-image --json, file by file; a corrupt file fails alone`,
    { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
    async (t) => {
      const { dir, images, corrupt } = await folderWithCorrupt(6);
      const { code, out, err } = await cli([
        'classify',
        dir,
        '--jobs',
        '2',
        '--jsonl',
        '--raw',
        '--top',
        '3',
        ...model,
      ]);
      t.equal(code, 1, 'exit code 1: a file failed');
      t.equal(err, '', 'nothing on stderr (not a terminal)');
      const lines = out.trimEnd().split('\n');
      t.equal(lines.length, images.length, 'one line per image');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      t.same(
        parsed.map((p) => p.image),
        images,
        'in the folder’s sorted order',
      );
      const errors = parsed.filter((p) => 'error' in p);
      t.equal(errors.length, 1, 'one error line');
      t.same(Object.keys(errors[0]!).sort(), ['error', 'image']);
      t.equal(errors[0]!.image, corrupt);
      t.match(errors[0]!.error, corrupt, 'its message names the file');
      for (const p of parsed) {
        if (p.image === corrupt) continue;
        const one = await cli(['classify', p.image as string, '--json', '--raw', '--top', '3', ...model]);
        t.equal(one.code, 0, one.err);
        const single = (JSON.parse(one.out) as { results: Record<string, unknown>[] }).results[0]!;
        t.same(Object.keys(p), Object.keys(single), `${p.image}: the same fields`);
        t.same(withoutLatency(p), withoutLatency(single), `${p.image}: the same values but latency`);
        t.type(p.latencyMs, 'number');
      }
    },
  );
}

t.test(
  'batch --json: one object with every result, the failed one as {image, error}',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const { dir, images, corrupt } = await folderWithCorrupt(3);
    const { code, out } = await cli(['classify', dir, '--model', Q8, '--json', '--unordered', '--jobs', '2']);
    t.equal(code, 1);
    const j = JSON.parse(out) as {
      results: { image: string; error?: string }[];
      jobs: number;
      path: string;
      memory: { arenaBytes: number };
    };
    t.same(j.results.map((r) => r.image).sort(), [...images].sort(), 'every image, in some order');
    t.same(
      j.results.filter((r) => r.error).map((r) => r.image),
      [corrupt],
    );
    t.equal(j.jobs, 2);
    t.equal(j.path, 'integer');
    t.ok(j.memory.arenaBytes > 0);
  },
);

t.test(
  'folders expand recursively to image files, sorted; dot-names, other files and empty folders are not images',
  async (t) => {
    const { expandInputs } = await import('../../src/cli/batch_inputs.js');
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-inputs-'));
    mkdirSync(join(dir, 'b', 'deep'), { recursive: true });
    mkdirSync(join(dir, '.hidden'));
    mkdirSync(join(dir, 'empty'));
    for (const f of [
      'z.PNG',
      'a.jpg',
      'notes.txt',
      '.dot.jpg',
      'b/c.webp',
      'b/deep/d.jpeg',
      '.hidden/e.jpg',
      'b/f.gif',
    ])
      writeFileSync(join(dir, f), '');
    symlinkSync(join(dir, 'b'), join(dir, 'link-to-b'));
    symlinkSync(join(dir, 'a.jpg'), join(dir, 'link.jpg'));
    const { images, empty } = await expandInputs([join(dir, 'notes.txt'), dir, join(dir, 'empty')]);
    t.same(
      images.map((p) => p.slice(dir.length + 1)),
      ['notes.txt', 'a.jpg', 'b/c.webp', 'b/deep/d.jpeg', 'b/f.gif', 'link.jpg', 'z.PNG'],
    );
    t.same(empty, [join(dir, 'empty')]);
    const usage = await cli(['classify', join(dir, 'empty')]);
    t.equal(usage.code, 2, 'a folder with no image is a usage error');
    t.match(usage.err, /no images in/);
    const notice = await cli(['classify', join(dir, 'empty'), join(dir, 'a.jpg'), '--jsonl']);
    t.equal(notice.code, 1, 'an empty folder beside an image: the batch runs (a.jpg is empty, so it fails)');
    t.match(notice.err, `lowwater: no images in folder ${join(dir, 'empty')}`);
    t.match(notice.out, /^\{"image":".*a\.jpg","error":"cannot decode image/);
    t.equal((await cli(['classify', dir, '--jobs', '0'])).code, 2);
    t.equal((await cli(['classify', dir, '--json', '--jsonl'])).code, 2);
  },
);

t.test('the progress line: done/total, rate and ETA, drawn at most once per interval', async (t) => {
  const { ProgressBar, progressLine, clock } = await import('../../src/cli/progress.js');
  t.equal(clock(65), '1:05');
  t.equal(clock(3725), '1:02:05');
  const p = { done: 30, failed: 1, total: 120, workersReady: 2, elapsedMs: 0 };
  t.equal(progressLine(p, undefined, 10), '[###-------] 30/120 (1 failed)  loading the model…');
  t.equal(progressLine(p, 10_000, 10), '[###-------] 30/120 (1 failed)  3.0 images/s  ETA 0:30');
  let now = 0;
  const drawn: string[] = [];
  const bar = new ProgressBar(
    (s) => drawn.push(s),
    100,
    () => now,
  );
  bar.update({ ...p, done: 0, workersReady: 1 });
  now = 50;
  bar.update({ ...p, done: 1 });
  t.equal(drawn.length, 1, 'a second update within 100 ms is not drawn at once');
  now = 150;
  bar.update({ ...p, done: 2 });
  t.equal(drawn.length, 2, 'after 100 ms it is');
  t.match(drawn[1], /2\/120 .* images\/s {2}ETA /);
  bar.stop();
  t.equal(drawn.at(-1), '\r\x1b[2K', 'stop erases the line');
});

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test(
  'the progress line appears when stderr is a terminal, and only then',
  {
    skip:
      skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') ||
      built ||
      skipWithout(hasScript ? false : "util-linux 'script' is not installed (Debian: apt-get install bsdutils)"),
  },
  async (t) => {
    const { dir, images } = await folderWithCorrupt(30);
    const outFile = join(dir, 'out.jsonl');
    const args = [bin, 'classify', dir, '--model', Q8, '--jobs', '2', '--jsonl'];
    const quoted = [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
    // script runs the command on a pseudo-terminal and copies what it shows to its stdout.
    const shown = spawnSync('script', ['-qfec', `${quoted} > '${outFile}'`, '/dev/null'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.equal(shown.status, 1, 'script passes on the exit code: 1, a file failed');
    const screen = shown.stdout;
    t.match(
      screen,
      /\r\x1b\[2K\[[#-]+\] \d+\/31 .*images\/s {2}ETA \d+:\d\d/,
      'the bar, redrawn in place, with count, rate and ETA',
    );
    t.match(screen, /lowwater: 31 of 31 images \(1 failed\) in [\d.]+ s/, 'then what it came to');
    t.equal(readFileSync(outFile, 'utf8').trimEnd().split('\n').length, images.length, 'stdout, a file, got the lines');
    t.notMatch(readFileSync(outFile, 'utf8'), /\x1b|images\/s/, 'and no bar');

    const piped = await new Promise<{ code: number | null; err: string; out: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let out = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, err, out }));
    });
    t.equal(piped.code, 1);
    t.equal(piped.err, '', 'stderr not a terminal: nothing on it');
    t.equal(piped.out.trimEnd().split('\n').length, images.length);
  },
);

t.test(
  'SIGINT mid-batch: exit code 130, every line printed is whole JSON, in input order',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') || built },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-sigint-'));
    const images = await deriveImages(fixturePath('images'), dir, 150);
    const child = spawn(process.execPath, [bin, 'classify', dir, '--model', Q8, '--jobs', '2', '--jsonl', '--raw'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sent = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      // Interrupt once a few lines are out: the batch is then well under way.
      if (!sent && out.split('\n').length > 5) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.ok(sent, 'the interrupt was sent');
    t.equal(code, 130, err);
    t.ok(out.endsWith('\n'), 'output ends at the end of a line');
    const lines = out.trimEnd().split('\n');
    t.ok(
      lines.length >= 5 && lines.length < images.length,
      `stopped early (${lines.length} of ${images.length} lines)`,
    );
    lines.forEach((l, i) => {
      const j = JSON.parse(l) as { image: string; inputSha256?: string; output?: number[] };
      if (i === 0 || i === lines.length - 1) t.equal(j.image, images[i], `line ${i}: image ${i}`);
      if (j.image !== images[i]) t.fail(`line ${i} is ${j.image}, not ${images[i]}`);
      if (j.output?.length !== 1001) t.fail(`line ${i}: the whole output tensor`);
    });
  },
);
