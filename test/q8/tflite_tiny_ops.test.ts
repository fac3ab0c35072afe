// The q8 reference of RESIZE_BILINEAR, QUANTIZE (same type) and ARG_MAX against TFLite itself
// (the bench/tflite peer, XNNPACK delegate) on one-op models written with the flatbuffers
// Builder: random quantized inputs, shapes and scales the DeepLab fixtures do not have
// (fractions that are not k/16, half-pixel and legacy coordinates, int8, ties in ARG_MAX).
// Skips when the peer is not installed.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTfliteRunner, HOW_TO_INSTALL, tfliteInstallDir } from '../../bench/tflite/runner.mjs';
import { refQArgMax, refQConvert, refQResizeBilinear, type QDType } from '../../src/reference/q8_ops.js';
import { bytesOf, rng, writeTflite, type TinyModel } from '../importers/tflite-writer.js';
import { skipWithout } from '../helpers/fixtures.js';

const notInstalled = skipWithout(tfliteInstallDir() ? false : HOW_TO_INSTALL);
const UINT8 = 3,
  INT8 = 9,
  INT32 = 2;
const dir = mkdtempSync(join(tmpdir(), 'lowwater-tiny-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Runs a one-op model in TFLite; also reports whether XNNPACK took the op. */
async function runTflite(model: TinyModel, input: Uint8Array): Promise<{ out: Uint8Array; delegated: boolean }> {
  const p = join(dir, `m${n++}.tflite`);
  writeFileSync(p, writeTflite(model));
  const r = await createTfliteRunner(p, { threads: 1, profiling: true });
  try {
    const out = r.run(input);
    return { out, delegated: r.profile().some((e) => e.nodeType === 'TfLiteXNNPackDelegate') };
  } finally {
    r.dispose();
  }
}

const randomBytes = (len: number, seed: number) => {
  const r = rng(seed);
  return Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
};
const asQ = (b: Uint8Array, dtype: QDType) => (dtype === 'u8' ? b : new Int8Array(b.buffer, b.byteOffset, b.length));
const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return a.length === b.length ? d : -1;
};

t.test("RESIZE_BILINEAR uint8/int8: XNNPACK's 11-bit interpolation", { skip: notInstalled }, async (t) => {
  const cases: [number, number, number, number, number, boolean, boolean, QDType][] = [
    // h, w, c, outH, outW, alignCorners, halfPixelCenters, dtype
    [5, 7, 3, 9, 11, false, true, 'u8'],
    [5, 7, 3, 13, 4, true, false, 'u8'],
    [4, 6, 17, 7, 9, false, false, 'u8'],
    [3, 3, 8, 10, 7, true, false, 'u8'],
    [1, 1, 8, 5, 5, true, false, 'u8'],
    [6, 5, 21, 23, 19, true, false, 'u8'],
    [7, 4, 5, 3, 2, false, true, 'u8'],
    [5, 7, 3, 9, 11, false, true, 'i8'],
    [6, 5, 21, 23, 19, true, false, 'i8'],
    [4, 6, 17, 7, 9, false, false, 'i8'],
  ];
  let seed = 1;
  for (const [h, w, c, oh, ow, alignCorners, halfPixelCenters, dtype] of cases) {
    const type = dtype === 'u8' ? UINT8 : INT8;
    const quant = { scale: [0.05], zeroPoint: [dtype === 'u8' ? 128 : 0] };
    const model: TinyModel = {
      opcodes: [{ deprecated: 23 }],
      tensors: [
        { name: 'x', shape: [1, h, w, c], type, quant },
        { name: 'size', shape: [2], type: INT32, data: bytesOf.i32([oh, ow]) },
        { name: 'y', shape: [1, oh, ow, c], type, quant },
      ],
      ops: [
        {
          opcode: 0,
          inputs: [0, 1],
          outputs: [2],
          options: { type: 15, fields: { 2: ['bool', alignCorners ? 1 : 0], 3: ['bool', halfPixelCenters ? 1 : 0] } },
        },
      ],
      inputs: [0],
      outputs: [2],
    };
    const x = randomBytes(h * w * c, seed++);
    const { out, delegated } = await runTflite(model, x);
    const want = refQResizeBilinear(
      { h, w, c, data: asQ(x, dtype) },
      oh,
      ow,
      alignCorners,
      halfPixelCenters,
      dtype,
    ).data;
    const label = `${dtype} ${h}x${w}x${c} → ${oh}x${ow} align ${alignCorners} half ${halfPixelCenters}`;
    t.ok(delegated, `${label}: XNNPACK runs it`);
    t.equal(diff(asQ(out, dtype), want), 0, `${label}: equal bytes`);
  }
});

t.test("QUANTIZE uint8 → uint8 and int8 → int8: XNNPACK's fixed-point convert", { skip: notInstalled }, async (t) => {
  const cases: [number, number, number, number, QDType][] = [
    // sIn, zIn, sOut, zOut
    [0.012422441, 0, 0.035209369, 0, 'u8'],
    [0.05, 100, 0.02, 30, 'u8'],
    [0.3, 7, 0.0071, 200, 'u8'],
    [0.0235, 128, 0.0235 * 1.37, 120, 'u8'],
    [0.05, -10, 0.02, 30, 'i8'],
    [0.012, 3, 0.0377, -100, 'i8'],
  ];
  let seed = 100;
  for (const [sIn, zIn, sOut, zOut, dtype] of cases) {
    const type = dtype === 'u8' ? UINT8 : INT8;
    const model: TinyModel = {
      opcodes: [{ deprecated: 114 }],
      tensors: [
        { name: 'x', shape: [1, 1, 1, 300], type, quant: { scale: [sIn], zeroPoint: [zIn] } },
        { name: 'y', shape: [1, 1, 1, 300], type, quant: { scale: [sOut], zeroPoint: [zOut] } },
      ],
      ops: [{ opcode: 0, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    };
    const x = randomBytes(300, seed++);
    x.set(Uint8Array.from({ length: 256 }, (_, i) => i)); // every input byte once
    const { out, delegated } = await runTflite(model, x);
    const label = `${dtype} ${sIn}/${zIn} → ${sOut}/${zOut}`;
    t.ok(delegated, `${label}: XNNPACK runs it`);
    t.equal(diff(asQ(out, dtype), refQConvert(asQ(x, dtype), zIn, sIn, sOut, zOut, dtype)), 0, `${label}: equal bytes`);
  }
});

t.test('ARG_MAX over channels: the first maximum', { skip: notInstalled }, async (t) => {
  for (const [c, levels, dtype] of [
    [21, 3, 'u8'],
    [21, 256, 'u8'],
    [5, 2, 'i8'],
    [300, 4, 'u8'],
  ] as const) {
    const type = dtype === 'u8' ? UINT8 : INT8;
    const model: TinyModel = {
      opcodes: [{ deprecated: 56 }],
      tensors: [
        { name: 'x', shape: [1, 6, 7, c], type, quant: { scale: [0.1], zeroPoint: [0] } },
        { name: 'axis', shape: [1], type: INT32, data: bytesOf.i32([3]) },
        { name: 'y', shape: [1, 6, 7], type: INT32 },
      ],
      ops: [{ opcode: 0, inputs: [0, 1], outputs: [2], options: { type: 40, fields: { 0: ['i8', INT32] } } }],
      inputs: [0],
      outputs: [2],
    };
    const r = rng(c * levels);
    // Few levels: many ties between classes.
    const x = Uint8Array.from(
      { length: 42 * c },
      () => Math.floor(r() * levels) * Math.floor(255 / Math.max(1, levels - 1)),
    );
    const { out } = await runTflite(model, x);
    const got = new Int32Array(out.buffer, out.byteOffset, out.length / 4);
    t.equal(diff(got, refQArgMax(asQ(x, dtype), c)), 0, `${dtype} ${c} classes, ${levels} levels: same class ids`);
  }
});
