// `lowwater profile` in-process: its help teaches the table, --json carries the documented
// fields, --html draws a bar per row (and TFLite's beside it with --tflite), usage errors exit 2.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOW_TO_INSTALL, tfliteInstallDir } from '../../bench/tflite/runner.mjs';
import { run } from '../../src/cli/main.js';
import { fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const dir = mkdtempSync(join(tmpdir(), 'lowwater-profile-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

t.test('--help explains the columns', async (t) => {
  const { code, out } = await cli(['profile', '--help']);
  t.equal(code, 0);
  t.match(out, /Usage: lowwater profile MODEL \[IMAGE\]/);
  t.match(out, /GMAC\/s\s+MMAC \/ ms \/ 1000: billions of multiply-accumulates per second/);
  t.match(out, /fused into one kernel call/, 'why a block is one row');
  t.match(out, /mid-grey/, 'what runs without an image');
  t.match(out, /TfLiteXNNPackDelegate/, 'what TFLite reports');
  const top = await cli(['--help']);
  t.match(top.out, /profile MODEL \[IMAGE\]/, 'listed in lowwater --help');
});

t.test('usage errors', async (t) => {
  let r = await cli(['profile']);
  t.equal(r.code, 2);
  t.match(r.err, /profile needs a MODEL/);
  r = await cli(['profile', 'nsfw_mobilenet_v2', '--runs', '0']);
  t.equal(r.code, 2);
  t.match(r.err, /--runs must be a whole number ≥ 1/);
  r = await cli(['profile', 'a', 'b', 'c']);
  t.equal(r.code, 2);
  r = await cli(['profile', 'nsfw_mobilenet_v2', '--tflite', '--runs', '1']);
  t.equal(r.code, 1, 'no TFLite profile of a TensorFlow.js model');
  t.match(r.err, /TensorFlow\.js model: TFLite's profile needs a \.tflite file/);
});

t.test('default model: table, and --json with the documented fields', async (t) => {
  const table = await cli(['profile', 'nsfw_mobilenet_v2', '--runs', '3', '--warmup', '1']);
  t.equal(table.code, 0, table.err);
  t.match(table.out, /^lowwater profile: nsfw_mobilenet_v2/);
  t.match(table.out, /input mid-grey 224x224/);
  t.match(table.out, /step\s+what\s+out\s+ms\s+share\s+MMAC\s+GMAC\/s\s+read KiB\s+write KiB\s+chunks/);
  t.match(table.out, /machine: .+, \d+ CPUs, Node v\d+/);
  const { code, out, err } = await cli(['profile', 'nsfw_mobilenet_v2', '--runs', '3', '--warmup', '1', '--json']);
  t.equal(code, 0, err);
  const j = JSON.parse(out);
  for (const k of [
    'version',
    'model',
    'path',
    'input',
    'runs',
    'warmup',
    'timer',
    'totalMs',
    'cpuMs',
    'unprofiledMs',
    'stepsMs',
    'coverage',
    'macs',
    'executedMacs',
    'gmacPerS',
    'rows',
    'notes',
    'machine',
  ])
    t.ok(k in j, `field ${k}`);
  t.equal(j.runs, 3);
  t.equal(j.path, 'float32');
  const row = j.rows[0];
  for (const k of [
    'step',
    'kind',
    'what',
    'name',
    'out',
    'operators',
    'operatorTypes',
    'folded',
    'ms',
    'meanMs',
    'minMs',
    'share',
    'macs',
    'executedMacs',
    'gmacPerS',
    'bytesRead',
    'activationBytesRead',
    'weightBytes',
    'bytesWritten',
    'chunks',
  ])
    t.ok(k in row, `row field ${k}`);
  t.equal(row.kind, 'block');
  t.ok(row.chunks >= 1);
  t.notOk('tflite' in j, 'no TFLite part unless asked');
});

t.test(
  'uint8 MobileNetV2 with TFLite: --json has its part, --html a bar per row for each engine',
  { skip: skipWithout(tfliteInstallDir() ? false : HOW_TO_INSTALL) || skipUnless('models', Q8) },
  async (t) => {
    const html = join(dir, 'profile.html');
    const { code, out, err } = await cli([
      'profile',
      fixturePath('models', Q8),
      fixturePath('images', 'cat.png'),
      '--runs',
      '2',
      '--warmup',
      '1',
      '--tflite',
      '--json',
      '--html',
      html,
    ]);
    t.equal(code, 0, err);
    const j = JSON.parse(out);
    t.match(j.input.description, /cat\.png \(\d+x\d+, resized to 224x224\)/);
    t.equal(j.input.synthetic, false);
    for (const k of [
      'runtime',
      'granularity',
      'totalMs',
      'meanMs',
      'unprofiledMs',
      'nodes',
      'entries',
      'operators',
      'groups',
    ])
      t.ok(k in j.tflite, `tflite field ${k}`);
    t.ok(
      j.rows.every((r: { tflite?: { group: number } }) => r.tflite && Number.isInteger(r.tflite.group)),
      'every row has its TFLite match',
    );
    const page = readFileSync(html, 'utf8');
    t.match(page, /^<!DOCTYPE html>/);
    t.notMatch(page, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, nothing fetched');
    const bars = (cls: string) =>
      new Set([...page.matchAll(new RegExp(`class="bar ${cls}" data-step="(\\d+)"`, 'g'))].map((m) => m[1]));
    t.equal(bars('lowwater').size, j.rows.length, 'a lowwater bar per row');
    const alone = j.rows.filter((r: { tflite: { ms: number | null } }) => r.tflite.ms !== null).length;
    t.equal(bars('tflite').size, alone, 'a TFLite bar per row TFLite times alone');
    t.ok(alone >= j.rows.length - 1, `${alone} of ${j.rows.length} rows`);
  },
);
