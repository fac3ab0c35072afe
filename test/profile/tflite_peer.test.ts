// TFLite-WASM's own profile of the fixture models next to lowwater's (profileModel with
// tflite: true): every operator of the file gets a TFLite entry and a lowwater row, XNNPACK's
// partitions are split into operators, and rows and entries form consistent groups.
import t from 'tap';
import { HOW_TO_INSTALL, tfliteInstallDir } from '../../bench/tflite/runner.mjs';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { profileModel, TflitePeerUnavailableError } from '../../src/index.js';
import { fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const notInstalled = skipWithout(tfliteInstallDir() ? false : HOW_TO_INSTALL);

const MODELS = [
  // Two XNNPACK partitions around an AVERAGE_POOL_2D TFLite runs itself.
  { file: 'mobilenet_v2_1.0_224_quant.tflite', partitions: 2 },
  // One partition between QUANTIZE, RESHAPE, SOFTMAX and QUANTIZE nodes.
  { file: 'tf2_mobilenet_v2_1.0_224_ptq.tflite', partitions: 1 },
  // Two partitions, one reaching past an operator TFLite runs itself, with operators of both
  // partitions under one XNNPACK name and number; 513x513, so few runs.
  { file: 'deeplabv3_mnv2_pascal_quant.tflite', partitions: 2 },
];

for (const { file, partitions } of MODELS) {
  t.test(
    `${file}: every TFLite operator matched to a lowwater row`,
    { skip: notInstalled || skipUnless('models', file) },
    async (t) => {
      const path = fixturePath('models', file);
      const p = await profileModel(path, undefined, { runs: 2, warmup: 1, tflite: true });
      const tf = p.tflite!;
      t.ok(tf, 'a TFLite profile');
      const { graph } = await loadTfliteFile(path);
      const n = new Set(graph.ops.map((op) => op.origin!.index)).size;
      t.same(
        tf.operators.map((o) => o.index),
        Array.from({ length: n }, (_, i) => i),
        `all ${n} operators of the file`,
      );
      const unmatched = tf.operators.filter((o) => o.entry < 0 || o.step === null);
      t.same(unmatched, [], 'each has a TFLite entry and a lowwater row');
      for (const o of tf.operators) {
        const row = p.rows[o.step!]!;
        if (!row.operators.includes(o.index)) t.fail(`operator ${o.index}: row ${o.step} does not list it`);
        if (!tf.entries[o.entry]!.operators.includes(o.index))
          t.fail(`operator ${o.index}: its entry does not cover it`);
      }
      t.equal(tf.granularity, 'operator', 'XNNPACK reported its operators and each was placed');
      t.equal(tf.nodes.filter((x) => x.delegate).length, partitions, `${partitions} XNNPACK partition(s)`);
      t.equal(tf.entries.filter((e) => e.kind === 'overhead').length, 1, 'one line for the partitions’ own time');
      // Groups: each row in exactly one, each entry with operators in exactly one.
      const rowsInGroups = tf.groups.flatMap((g) => g.steps).sort((a, b) => a - b);
      t.same(
        rowsInGroups,
        p.rows.map((r) => r.step),
        'every row in one group',
      );
      const entriesInGroups = tf.groups.flatMap((g) => g.entries).sort((a, b) => a - b);
      t.same(
        entriesInGroups,
        tf.entries.flatMap((e, i) => (e.kind === 'overhead' ? [] : [i])),
        'every entry in one group',
      );
      for (const r of p.rows) {
        const g = tf.groups[r.tflite!.group]!;
        t.equal(r.tflite!.ms === null, g.steps.length > 1, `step ${r.step}: own TFLite time unless grouped`);
      }
      t.ok(tf.totalMs > 0 && tf.unprofiledMs > 0 && tf.meanMs > 0);
    },
  );
}

t.test('no TFLite profile of a model that is not a .tflite file', async (t) => {
  await t.rejects(profileModel(undefined, undefined, { runs: 1, tflite: true }), TflitePeerUnavailableError);
  await t.rejects(profileModel(undefined, undefined, { runs: 1, tflite: true }), /TensorFlow\.js model/);
});
