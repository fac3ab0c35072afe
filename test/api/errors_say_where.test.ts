// Errors name the file, the operator (index and type) and the tensor, on one line, with the wrong value:
// one case for each fault the loaders' fuzzing found reported without its place.
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModel } from '../../src/index.js';
import { run } from '../../src/cli/main.js';
import { readableName } from '../../src/errors.js';
import { tinyQuantModel, writeTflite, type TinyModel } from '../importers/tflite-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'lowwater-errors-'));
function file(name: string, m: TinyModel): string {
  const path = join(dir, name);
  writeFileSync(path, writeTflite(m));
  return path;
}

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await run(args, { stdout: () => {}, stderr: (s) => (err += s) });
  return { code, err };
}

const oneLine = (t: { notOk: (v: unknown, m: string) => void }, msg: string, what: string) =>
  t.notOk(/\n./.test(msg.trimEnd()), `${what}: one line`);

t.test('readable names: fused names counted, long names cut to 120 characters', async (t) => {
  const fused = Array.from(
    { length: 40 },
    (_, i) => `MobilenetV2/expanded_conv_${i}/project/BatchNorm/FusedBatchNorm`,
  ).join(';');
  t.ok(fused.length > 800);
  t.equal(readableName(fused), 'MobilenetV2/expanded_conv_0/project/BatchNorm/FusedBatchNorm (+39 fused)');
  const long = 'x'.repeat(300);
  t.equal(readableName(long).length, 120);
  t.match(readableName(long), /^x+…x+$/);
  t.equal(readableName('conv/w'), 'conv/w');
});

t.test('a tensor name of 800+ characters is shown readable in the error', async (t) => {
  const m = tinyQuantModel().model;
  const name = Array.from({ length: 30 }, (_, i) => `net/block_${i}/conv/weights/FakeQuantWithMinMaxVars`).join(';');
  m.tensors[1] = { ...m.tensors[1]!, name, data: m.tensors[1]!.data!.slice(0, 10) };
  const path = file('long_name.tflite', m);
  const e = (await loadModel(path).catch((x: unknown) => x)) as Error;
  t.match(e.message, path, 'names the file');
  t.match(e.message, /tensor 1 'net\/block_0\/conv\/weights\/FakeQuantWithMinMaxVars \(\+29 fused\)'/);
  t.match(e.message, /needs 54 bytes but its buffer \d+ holds 10/, 'and the wrong value');
  t.ok(e.message.length < 400, `short: ${e.message.length} characters`);
  oneLine(t, e.message, 'message');
});

t.test('a zero point beyond 2^53 is shown as the file holds it, not NaN', async (t) => {
  const m = tinyQuantModel().model;
  m.tensors[1] = { ...m.tensors[1]!, quant: { scale: [0.02], zeroPoint: [2 ** 60] } };
  const e = (await loadModel(file('zp.tflite', m)).catch((x: unknown) => x)) as Error;
  t.match(e.message, /zp\.tflite/);
  t.match(e.message, /tensor 1 'conv\/w'/);
  t.match(e.message, /zero point 1152921504606846976/);
  t.notMatch(e.message, /NaN/);
});

/** The tiny quantized model cut after its first operator: one 3x3 CONV_2D, which the integer path runs. */
function convOnly(): TinyModel {
  const m = tinyQuantModel().model;
  return { ...m, tensors: m.tensors.slice(0, 4), ops: m.ops.slice(0, 1), outputs: [3] };
}

t.test('a folded bias that does not fit int32 names the file, the operator and the value', async (t) => {
  const m = convOnly();
  const b = new Int32Array(m.tensors[2]!.data!.slice().buffer);
  b[1] = 2 ** 31 - 2;
  m.tensors[2] = { ...m.tensors[2]!, data: new Uint8Array(b.buffer) };
  // Channel 1's weights all 0 (zero point 120): folding the input zero point adds 128·120·27 to its bias.
  const w = m.tensors[1]!.data!.slice();
  w.fill(0, 27, 54);
  m.tensors[1] = { ...m.tensors[1]!, data: w };
  const path = file('bias.tflite', m);
  const e = (await loadModel(path).catch((x: unknown) => x)) as Error;
  t.match(e.message, path);
  t.match(e.message, /operator 0 \(CONV_2D\) 'conv'/);
  t.match(e.message, /does not fit int32/);
  t.match(e.message, /channel 1 \(\d+\)/, 'with the channel and its value');
  oneLine(t, e.message, 'message');
});

t.test('an ADD whose scale ratios the integer add cannot take names its operator', async (t) => {
  const s = 1 / 128;
  const m: TinyModel = {
    opcodes: [{ deprecated: 0, builtin: 0 }], // ADD
    tensors: [
      { name: 'a', shape: [1, 2, 2, 3], type: 3, quant: { scale: [s], zeroPoint: [128] } },
      { name: 'b', shape: [1, 2, 2, 3], type: 3, quant: { scale: [s], zeroPoint: [128] } },
      { name: 'sum', shape: [1, 2, 2, 3], type: 3, quant: { scale: [s * 1e-6], zeroPoint: [0] } },
    ],
    ops: [{ opcode: 0, inputs: [0, 1], outputs: [2] }],
    inputs: [0, 1],
    outputs: [2],
  };
  const path = file('add.tflite', m);
  const e = (await loadModel(path).catch((x: unknown) => x)) as Error;
  t.match(e.message, path);
  t.match(e.message, /operator 0 \(ADD\) 'sum'/);
  t.match(e.message, /scale ratios/);
});

t.test('CLI: images and labels that are directories, broken JPEGs, a zero budget', async (t) => {
  const imgDir = join(dir, 'photos');
  mkdirSync(imgDir);
  // A folder is expanded to the images in it: an empty one is a usage error that names it.
  let r = await cli(['classify', imgDir]);
  t.equal(r.code, 2);
  t.match(r.err, `no images in ${imgDir}`);

  const jpg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36a' } })
    .jpeg()
    .toBuffer();
  const broken = join(dir, 'broken.jpg');
  writeFileSync(broken, jpg.subarray(0, jpg.length / 2));
  r = await cli(['classify', broken]);
  t.equal(r.code, 1);
  t.match(r.err, `cannot decode image '${broken}'`);
  oneLine(t, r.err, 'libvips error');

  const png = join(dir, 'ok.png');
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
    .png()
    .toFile(png);
  r = await cli(['classify', png, '--labels', imgDir]);
  t.equal(r.code, 1);
  t.match(r.err, `labels file '${imgDir}' is a directory`);
  t.notMatch(r.err, /EISDIR/);

  r = await cli(['classify', png, '--budget=0']);
  t.equal(r.code, 2);
  t.match(r.err, /--budget must be more than 0 bytes, got '0'/);
  t.notMatch(r.err, /budgetBytes/);
});
