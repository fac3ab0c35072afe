/**
 * Fuzzing the TFLite importer with seeded truncations, byte flips and random
 * 32-bit overwrites (which hit offsets and lengths) of a real model and of a
 * tiny Builder-written one. Every case must either import to a graph that
 * validates (and dequantizes), or throw TfliteFormatError /
 * TfliteUnsupportedError: no other exception, no out-of-bounds read, no hang.
 * The run is bounded by fixed case counts; the reader's work budget bounds
 * each case.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { validateGraph } from '../../planner/builder.js';
import { DTYPE_BYTES, tensorElements } from '../../planner/ir.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import {
  importTflite,
  readTfliteFile,
  TfliteFormatError,
  TfliteUnsupportedError,
} from '../../src/importers/tflite/index.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';
import { rng, tinyHeadModel, tinyQuantModel, writeTflite } from './tflite-writer.js';
import { constantEntries } from '../helpers/constants.js';

type Outcome = 'imported' | 'format' | 'unsupported';

function attempt(bytes: Uint8Array, label: string): Outcome {
  try {
    const m = importTflite(bytes, label);
    validateGraph(m.graph);
    for (const [id, data] of constantEntries(m)) {
      const c = m.graph.tensors[id]!;
      if (data.length !== tensorElements(c) || data.BYTES_PER_ELEMENT !== DTYPE_BYTES[c.dtype])
        throw new Error(`constant '${c.name}' data does not fit ${c.shape} ${c.dtype}`);
    }
    validateGraph(dequantizeModel(m).graph);
    return 'imported';
  } catch (e) {
    if (e instanceof TfliteFormatError) return 'format';
    if (e instanceof TfliteUnsupportedError) return 'unsupported';
    throw new Error(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
}

/** Byte ranges not covered by buffer data: the flatbuffer tables, vectors and strings. */
function structuralRanges(bytes: Uint8Array): [number, number][] {
  const f = readTfliteFile(bytes);
  const data: [number, number][] = [];
  for (let i = 0; i < f.bufferCount; i++) {
    const b = f.buffer(i, 'fuzz');
    if (b.length > 0) data.push([b.start, b.start + b.length]);
  }
  data.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let at = 0;
  for (const [s, e] of data) {
    if (s > at) out.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < bytes.length) out.push([at, bytes.length]);
  return out;
}

function picker(ranges: [number, number][], r: () => number): () => number {
  const total = ranges.reduce((s, [a, b]) => s + b - a, 0);
  return () => {
    let k = Math.floor(r() * total);
    for (const [a, b] of ranges) {
      if (k < b - a) return a + k;
      k -= b - a;
    }
    return ranges.at(-1)![1] - 1;
  };
}

interface FuzzPlan {
  truncations: number | 'all';
  flips: number;
  words: number;
}

function fuzz(t: Test, name: string, original: Uint8Array, seed: number, plan: FuzzPlan): void {
  const r = rng(seed);
  const tally: Record<Outcome, number> = { imported: 0, format: 0, unsupported: 0 };
  const run = (bytes: Uint8Array, label: string) => {
    tally[attempt(bytes, `${name} ${label} (seed ${seed})`)]++;
  };
  t.equal(attempt(original, name), 'imported', 'the unmodified file imports');

  const lengths =
    plan.truncations === 'all'
      ? Array.from({ length: original.length }, (_, i) => i)
      : Array.from({ length: plan.truncations }, () => Math.floor(r() * original.length));
  for (const n of lengths) run(original.slice(0, n), `truncated to ${n}`);

  const structural = picker(structuralRanges(original), r);
  const anywhere = () => Math.floor(r() * original.length);
  for (let i = 0; i < plan.flips; i++) {
    const bytes = original.slice();
    const k = 1 + Math.floor(r() * 4);
    const where: number[] = [];
    for (let j = 0; j < k; j++) {
      const p = r() < 0.85 ? structural() : anywhere();
      bytes[p] ^= 1 + Math.floor(r() * 255);
      where.push(p);
    }
    run(bytes, `flip #${i} at [${where}]`);
  }
  for (let i = 0; i < plan.words; i++) {
    const bytes = original.slice();
    const p = Math.min(structural() & ~3, bytes.length - 4);
    const v = r() < 0.5 ? Math.floor(r() * 2 ** 32) : Math.floor(r() * 2 * original.length);
    new DataView(bytes.buffer).setUint32(p, v, true);
    run(bytes, `u32 #${i} = ${v} at ${p}`);
  }
  t.comment(`${name}: ${JSON.stringify(tally)}`);
  t.ok(tally.format > 0, 'damage is detected as a format error');
  t.ok(tally.imported > 0, 'harmless changes (names, data bytes) still import');
}

t.test('fuzz: tiny Builder-written model (every truncation, flips, offset overwrites)', async (t) => {
  fuzz(t, 'tiny', writeTflite(tinyQuantModel(9).model), 0x5eed, { truncations: 'all', flips: 3000, words: 1500 });
});

t.test('fuzz: tiny float head model (every truncation, flips, offset overwrites)', async (t) => {
  fuzz(t, 'head', writeTflite(tinyHeadModel().model), 0xbeef, { truncations: 'all', flips: 2000, words: 1000 });
});

t.test(
  'fuzz: mobilenet_v2_1.0_224_quant (truncations, flips, offset overwrites)',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const file = readFileSync(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
    const bytes = new Uint8Array(file.buffer, file.byteOffset, file.length).slice();
    fuzz(t, 'mobilenet_v2_1.0_224_quant', bytes, 20260101, { truncations: 60, flips: 250, words: 120 });
  },
);

t.test(
  'fuzz: deeplabv3_mnv2_dm05_pascal_quant (flips, offset overwrites)',
  { skip: skipUnless('models', 'deeplabv3_mnv2_dm05_pascal_quant.tflite') },
  async (t) => {
    const file = readFileSync(fixturePath('models', 'deeplabv3_mnv2_dm05_pascal_quant.tflite'));
    const bytes = new Uint8Array(file.buffer, file.byteOffset, file.length).slice();
    fuzz(t, 'deeplabv3_mnv2_dm05_pascal_quant', bytes, 7, { truncations: 20, flips: 150, words: 80 });
  },
);
