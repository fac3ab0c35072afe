// classifyMany: results equal one Model's, in input order or as they finish; bad files fail alone; a stop
// keeps a whole prefix; load errors throw with their class.
import t from 'tap';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyMany,
  loadModel,
  UsageError,
  type BatchProgress,
  type BatchResult,
  type BatchStart,
} from '../../src/index.js';
import { deriveImages } from '../../bench/batch_images.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';

const Q8 = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const skip = skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite');

async function collect<I>(it: AsyncIterable<BatchResult<I>>): Promise<BatchResult<I>[]> {
  const out: BatchResult<I>[] = [];
  for await (const r of it) out.push(r);
  return out;
}

t.test(
  'two workers give what one Model gives, image by image, with a missing and a corrupt file failing alone',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-many-'));
    const good = await deriveImages(fixturePath('images'), join(dir, 'img'), 8);
    const corrupt = join(dir, 'corrupt.jpg');
    writeFileSync(corrupt, readFileSync(good[0]!).subarray(0, 2000)); // a JPEG cut short
    const missing = join(dir, 'missing.png');
    const images = [...good.slice(0, 3), corrupt, ...good.slice(3, 6), missing, ...good.slice(6)];
    // Encoded bytes are an image too: they cross to the worker by structured clone.
    const bytes = new Uint8Array(readFileSync(good[1]!));

    const progress: BatchProgress[] = [];
    let start: BatchStart | undefined;
    const got = await collect(
      classifyMany<string | Uint8Array>([...images, bytes], {
        model: Q8,
        jobs: 2,
        top: 3,
        onProgress: (p) => progress.push(p),
        onStart: (s) => (start = s),
      }),
    );

    const model = await loadModel(Q8);
    t.same(
      got.map((r) => r.index),
      images.map((_, i) => i).concat(images.length),
      'every image once, in input order',
    );
    for (const r of got) {
      const name = typeof r.image === 'string' ? r.image : 'the bytes';
      if (r.image === corrupt || r.image === missing) {
        t.ok(r.error, `${name} failed`);
        t.ok(r.error!.includes(r.image as string), `its message names the file: ${r.error}`);
        t.notOk(r.error!.includes('\n'), 'on one line');
        continue;
      }
      if (r.error !== undefined) {
        t.fail(`${name}: ${r.error}`);
        continue;
      }
      const one = await model.classify(r.image, { top: 3 });
      t.equal(r.inputSha256, one.inputSha256, `${name}: same input bytes`);
      t.same(Array.from(r.output), Array.from(one.output), `${name}: same output bytes`);
      t.same(r.top, one.top, `${name}: same top 3`);
      t.equal(r.output.constructor, one.output.constructor, `${name}: output of the same type`);
    }
    t.equal(progress.at(-1)?.done, images.length + 1, 'progress ends at the total');
    t.equal(progress.at(-1)?.failed, 2, 'with the two failures counted');
    t.equal(progress[0]?.done, 0, 'and starts at 0');
    t.equal(start?.jobs, 2, 'onStart says two workers');
    t.equal(start?.info.path, 'integer');
    const m = start!.workerMemory.model;
    t.ok(
      m.wasmMemoryBytes >= m.weightsBytes + m.arenaBytes,
      'a worker has its own WebAssembly memory: weights and arena',
    );
    t.ok(start!.workerMemory.jsHeapBytes > 0);
  },
);

t.test('unordered: the same results, each image once', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-many-'));
  const images = await deriveImages(fixturePath('images'), dir, 6);
  const ordered = await collect(classifyMany(images, { model: Q8, jobs: 2 }));
  const unordered = await collect(classifyMany(images, { model: Q8, jobs: 2, ordered: false }));
  t.same(
    unordered.map((r) => r.index).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
  );
  for (const r of unordered) {
    const o = ordered[r.index]!;
    t.equal(r.image, o.image);
    t.equal(r.error, undefined);
    if (r.error === undefined && o.error === undefined) t.equal(r.inputSha256, o.inputSha256);
  }
});

t.test('a stop yields a whole prefix of the input, then throws the signal’s reason', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-many-'));
  const images = await deriveImages(fixturePath('images'), dir, 40);
  const stop = new AbortController();
  const got: BatchResult<string>[] = [];
  const reason = new Error('enough');
  await t.rejects(async () => {
    for await (const r of classifyMany(images, { model: Q8, jobs: 2, signal: stop.signal })) {
      got.push(r);
      if (got.length === 3) stop.abort(reason);
    }
  }, reason);
  t.ok(got.length >= 3 && got.length < images.length, `stopped early (${got.length} of ${images.length})`);
  t.same(
    got.map((r) => r.index),
    got.map((_, i) => i),
    'the results it gave are images 0, 1, 2, ... with no gap',
  );
  t.ok(
    got.every((r) => r.error === undefined),
    'each complete',
  );
});

t.test('load and option errors throw from the iteration, with their class', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-many-'));
  const images = await deriveImages(fixturePath('images'), dir, 2);
  await t.rejects(collect(classifyMany(images, { model: Q8, jobs: 0 })), UsageError);
  await t.rejects(collect(classifyMany(images, { model: Q8, budget: 'lots' })), UsageError);
  await t.rejects(collect(classifyMany(images, { model: join(dir, 'nope.tflite') })), {
    message: /nope\.tflite' is neither a file nor a known model name/,
  });
  // A plan refused inside the workers arrives as a PlanRefusedError with its minimum.
  await t.rejects(collect(classifyMany(images, { model: Q8, budget: 1000, jobs: 2 })), {
    name: 'PlanRefusedError',
    minimumBytes: Number,
  });
  t.same(await collect(classifyMany([], { model: Q8 })), [], 'no images: no results, no workers');
});
