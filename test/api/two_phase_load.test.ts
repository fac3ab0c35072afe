// Plan first, then load: the model's tables are read to plan, and not one byte of weight data is read
// before the plan is complete; then each weight range is read once per lowering pass and never kept.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { importTflite } from '../../src/importers/tflite/import.js';
import { readTfliteFile } from '../../src/importers/tflite/file.js';
import { MemorySource, type ByteSource } from '../../src/importers/byte_source.js';
import { FileSource } from '../../src/importers/file_source.js';
import { prepareRun } from '../../src/run_setup.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';

interface Access {
  kind: 'tables' | 'read';
  start: number;
  end: number;
  planned: boolean;
}

/** A source over `inner` that logs every range asked for, and whether planning had ended. */
function logging(inner: ByteSource, log: Access[], state: { planned: boolean }): ByteSource {
  return {
    name: inner.name,
    size: inner.size,
    tables: {
      bytes: inner.tables.bytes,
      ensure: (o, n) => {
        log.push({ kind: 'tables', start: o, end: o + n, planned: state.planned });
        inner.tables.ensure(o, n);
      },
    },
    read: (o, n) => {
      log.push({ kind: 'read', start: o, end: o + n, planned: state.planned });
      return inner.read(o, n);
    },
    release: () => inner.release(),
    retainedBytes: () => inner.retainedBytes(),
  };
}

/** [start, end) of every buffer holding a weight or bias of the model (the constants the graph keeps). */
function weightRanges(bytes: Uint8Array): [number, number][] {
  const f = readTfliteFile(bytes, 'x');
  const m = importTflite(bytes, 'x');
  const names = new Set(m.graph.tensors.filter((t) => t.constant).map((t) => t.name));
  return f.tensors
    .filter((t) => names.has(t.name) && t.buffer > 0)
    .map((t) => f.buffer(t.buffer, 'x'))
    .filter((r) => r.length > 0)
    .map((r) => [r.start, r.start + r.length]);
}

const overlaps = (a: Access, ranges: [number, number][]) => ranges.some(([s, e]) => a.start < e && s < a.end);

for (const [file, float] of [
  ['mobilenet_v2_1.0_224_quant.tflite', false],
  ['mobilenet_v2_1.0_224_quant.tflite', true],
  ['deeplabv3_mnv2_pascal_quant.tflite', false],
] as const) {
  t.test(
    `${file}${float ? ' (float path)' : ''}: no weight byte is read before the plan is complete`,
    { skip: skipUnless('models', file) },
    async (t) => {
      const path = fixturePath('models', file);
      const weights = weightRanges(new Uint8Array(readFileSync(path)));
      for (const [what, make] of [
        ['file handle', () => new FileSource(path)],
        ['bytes in memory', () => new MemorySource(new Uint8Array(readFileSync(path)), path)],
      ] as const) {
        const log: Access[] = [];
        const state = { planned: false };
        const model = importTflite(logging(make(), log, state), path);
        const setup = await prepareRun(model, {
          kernels: await loadKernels(),
          float,
          onPlanned: () => (state.planned = true),
        });
        const before = log.filter((a) => !a.planned);
        const after = log.filter((a) => a.planned);
        t.ok(before.length > 0, `${what}: the tables were read to plan`);
        t.same(
          before.filter((a) => overlaps(a, weights)),
          [],
          `${what}: no range read before planning ended touches a weight`,
        );
        t.ok(
          after.every((a) => a.kind === 'read'),
          `${what}: after planning only weights are read`,
        );
        const read = new Set(after.filter((a) => overlaps(a, weights)).map((a) => `${a.start}`));
        t.equal(read.size, weights.length, `${what}: every weight buffer is read after planning`);
        setup.model.constants.release!();
        model.constants.release!();
        t.equal(setup.executor.memoryReport().footprint.jsRetainedBytes, 0, `${what}: nothing kept after release`);
        t.throws(() => model.constants.get(model.graph.tensors.find((x) => x.constant)!.id), /released/);
      }
    },
  );
}
