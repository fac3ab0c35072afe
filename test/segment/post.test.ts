// Segmentation post-processing: palette, indexed PNG, class maps, counts, resampling, agreement, overlay.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import {
  classCounts,
  classMapFromOutput,
  classMapSha256,
  compareWithTruth,
  encodeIndexedPng,
  overlayLayer,
  readClassMask,
  resizeNearest,
  vocPalette,
  writeMaskPng,
  writeOverlay,
  type ClassMap,
} from '../../src/segment/index.js';
import { createHash } from 'node:crypto';

const dir = mkdtempSync(join(tmpdir(), 'lowwater-seg-'));

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bitwise CRC-32 (PNG spec, polynomial 0xEDB88320), independent of zlib. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Parses a PNG into its chunks, checking the signature and every CRC. */
function chunks(png: Uint8Array): { type: string; data: Buffer }[] {
  const b = Buffer.from(png);
  if (b.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('bad signature');
  const out: { type: string; data: Buffer }[] = [];
  for (let p = 8; p < b.length;) {
    const n = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    const data = b.subarray(p + 8, p + 8 + n);
    if (crc32(b.subarray(p + 4, p + 8 + n)) !== b.readUInt32BE(p + 8 + n)) throw new Error(`bad CRC in ${type}`);
    out.push({ type, data });
    p += 12 + n;
  }
  return out;
}

t.test('VOC palette: the devkit colours of known classes, all 256 distinct', async (t) => {
  const p = vocPalette();
  const rgb = (c: number) => Array.from(p.subarray(3 * c, 3 * c + 3));
  // PASCAL VOC 2012 colours (devkit labelcolormap): background, aeroplane, bicycle, bird, boat, ...
  const known: Record<number, number[]> = {
    0: [0, 0, 0],
    1: [128, 0, 0],
    2: [0, 128, 0],
    3: [128, 128, 0],
    4: [0, 0, 128],
    5: [128, 0, 128],
    6: [0, 128, 128],
    7: [128, 128, 128],
    8: [64, 0, 0],
    9: [192, 0, 0],
    10: [64, 128, 0],
    12: [64, 0, 128],
    13: [192, 0, 128],
    15: [192, 128, 128],
    16: [0, 64, 0],
    20: [0, 64, 128],
    255: [224, 224, 192],
  };
  for (const [c, want] of Object.entries(known)) t.same(rgb(Number(c)), want, `class ${c}`);
  t.equal(new Set(Array.from({ length: 256 }, (_, c) => rgb(c).join())).size, 256);
  t.same(vocPalette(21), p.subarray(0, 63), 'a prefix of the full map');
});

t.test(
  'indexed PNG: chunks, CRCs, palette and pixel indices, read back by an independent parser and by sharp',
  async (t) => {
    const r = rng(7);
    const [w, h] = [37, 11];
    const ids = Uint8Array.from({ length: w * h }, () => Math.floor(r() * 21));
    const palette = vocPalette();
    const png = encodeIndexedPng(w, h, ids, palette);
    const cs = chunks(png);
    t.same(
      cs.map((c) => c.type),
      ['IHDR', 'PLTE', 'IDAT', 'IEND'],
    );
    const ihdr = cs[0]!.data;
    t.same(
      [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]],
      [w, h, 8, 3, 0, 0, 0],
      'IHDR: size, 8-bit indexed',
    );
    t.same(new Uint8Array(cs[1]!.data), palette, 'PLTE is the VOC palette');
    const raw = inflateSync(cs[2]!.data);
    t.equal(raw.length, (w + 1) * h);
    const got = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      t.equal(raw[y * (w + 1)], 0, `row ${y} filter None`);
      got.set(raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1)), y * w);
    }
    t.same(got, ids, 'pixel values are the class ids');
    const meta = await sharp(png).metadata();
    t.ok(meta.isPalette, 'sharp sees a palette image');
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    t.same([info.width, info.height, info.channels], [w, h, 3]);
    let bad = 0;
    for (let i = 0; i < ids.length; i++)
      for (let k = 0; k < 3; k++) if (data[3 * i + k] !== palette[3 * ids[i]! + k]) bad++;
    t.equal(bad, 0, 'sharp decodes every pixel to its class colour');
    t.throws(() => encodeIndexedPng(2, 2, Uint8Array.of(0, 1, 2, 21), vocPalette(21)), /index 21 has no palette entry/);
    t.throws(() => encodeIndexedPng(3, 2, Uint8Array.of(0, 1), palette), /2 indices for 3x2/);
    t.throws(() => encodeIndexedPng(1, 1, Uint8Array.of(0), new Uint8Array(4)), /not 1\.\.256 RGB triples/);
  },
);

t.test('class map from an arg-max output: ids pass through; invalid ids are refused', async (t) => {
  const m = classMapFromOutput(Int32Array.of(0, 3, 20, 3, 0, 1), [1, 2, 3]);
  t.same([m.width, m.height, Array.from(m.ids)], [3, 2, [0, 3, 20, 3, 0, 1]]);
  t.same(classMapFromOutput([1, 2], [1, 1, 2, 1]).ids, Uint8Array.of(1, 2), '[1,H,W,1] is ids too');
  t.throws(() => classMapFromOutput([0, 256], [1, 1, 2]), /value 256 at pixel 1 is not a class id/);
  t.throws(() => classMapFromOutput([0, 0.5], [1, 1, 2]), /not a class id/);
  t.throws(() => classMapFromOutput([0, 1, 2], [1, 1, 2]), /3 values for shape \[1,1,2\]/);
  t.throws(
    () => classMapFromOutput(new Float32Array(1001), [1, 1001]),
    /shape \[1,1001\]; a segmentation model ends with/,
  );
});

t.test('class map from class scores: first maximum wins, as a brute-force arg-max', async (t) => {
  const r = rng(11);
  const [h, w, c] = [5, 7, 21];
  // Scores on a coarse grid so that ties happen.
  const s = Float32Array.from({ length: h * w * c }, () => Math.floor(r() * 4));
  const m = classMapFromOutput(s, [1, h, w, c]);
  let ties = 0;
  for (let p = 0; p < h * w; p++) {
    const row = Array.from(s.subarray(p * c, (p + 1) * c));
    const max = Math.max(...row);
    if (row.filter((v) => v === max).length > 1) ties++;
    t.equal(m.ids[p], row.indexOf(max), `pixel ${p}`);
  }
  t.ok(ties > 0, `${ties} pixels with tied scores took the lower class id`);
  t.throws(() => classMapFromOutput(new Float32Array(300), [1, 1, 1, 300]), /300 classes do not fit/);
});

t.test('class counts, labels and the mask sha256', async (t) => {
  const m: ClassMap = { width: 3, height: 2, ids: Uint8Array.of(0, 3, 3, 15, 0, 3) };
  const labels = ['background', 'aeroplane', 'bicycle', 'bird'];
  t.same(classCounts(m, labels), { background: 2, bird: 3, 'class 15': 1 });
  t.same(Object.keys(classCounts(m, labels)), ['background', 'bird', 'class 15'], 'class-id order');
  t.same(classCounts(m), { 'class 0': 2, 'class 3': 3, 'class 15': 1 });
  t.equal(
    await classMapSha256(m),
    createHash('sha256')
      .update(Uint8Array.of(0, 3, 3, 15, 0, 3))
      .digest('hex'),
    'sha256 of one byte per pixel, row-major',
  );
});

t.test('nearest resampling at pixel centres (hand-computed)', async (t) => {
  const m: ClassMap = { width: 2, height: 2, ids: Uint8Array.of(1, 2, 3, 4) };
  t.same(Array.from(resizeNearest(m, 4, 4).ids), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  // 5 → 3: rows/columns floor((i + 0.5)·5/3) = 0, 2, 4.
  const five: ClassMap = { width: 5, height: 5, ids: Uint8Array.from({ length: 25 }, (_, i) => i) };
  t.same(Array.from(resizeNearest(five, 3, 3).ids), [0, 2, 4, 10, 12, 14, 20, 22, 24]);
  // 3 → 2 wide, 1 → 3 tall: columns floor(0.75) = 0, floor(2.25) = 2.
  t.same(Array.from(resizeNearest({ width: 3, height: 1, ids: Uint8Array.of(7, 8, 9) }, 2, 3).ids), [7, 9, 7, 9, 7, 9]);
  const same = resizeNearest(m, 2, 2);
  t.same(same.ids, m.ids);
  t.not(same.ids, m.ids, 'a copy');
});

t.test('agreement with ground truth: fraction of equal pixels and IoU per class', async (t) => {
  const truth: ClassMap = { width: 4, height: 1, ids: Uint8Array.of(0, 0, 3, 3) };
  const pred: ClassMap = { width: 4, height: 1, ids: Uint8Array.of(0, 3, 3, 3) };
  const a = compareWithTruth(pred, truth);
  t.same([a.pixelsAgree, a.pixelsTotal, a.pixelAgreement], [3, 4, 0.75]);
  t.same(a.iou, { 0: 1 / 2, 3: 2 / 3 });
  // A prediction at another resolution is sampled at the truth's pixel centres.
  const coarse: ClassMap = { width: 2, height: 1, ids: Uint8Array.of(0, 3) };
  t.equal(compareWithTruth(coarse, truth).pixelAgreement, 1);
});

t.test('overlay layer: class colours at the image size, background clear', async (t) => {
  const m: ClassMap = { width: 2, height: 1, ids: Uint8Array.of(0, 15) };
  const layer = overlayLayer(m, 4, 2, 0.5);
  t.equal(layer.length, 4 * 2 * 4);
  const px = (x: number, y: number) => Array.from(layer.subarray(4 * (y * 4 + x), 4 * (y * 4 + x) + 4));
  t.same(px(0, 0), [0, 0, 0, 0]);
  t.same(px(1, 1), [0, 0, 0, 0]);
  t.same(px(2, 0), [192, 128, 128, 128], 'person colour at alpha 0.5');
  t.same(px(3, 1), [192, 128, 128, 128]);
  t.same(overlayLayer(m, 2, 1, 1).subarray(4), Uint8Array.of(192, 128, 128, 255));
});

t.test('mask and overlay files: written, read back, sizes kept', async (t) => {
  const r = rng(3);
  const m: ClassMap = {
    width: 9,
    height: 6,
    ids: Uint8Array.from({ length: 54 }, () => [0, 3, 12, 15][Math.floor(r() * 4)]!),
  };
  const maskFile = join(dir, 'mask.png');
  await writeMaskPng(maskFile, m);
  const back = await readClassMask(maskFile);
  t.same([back.width, back.height], [9, 6]);
  t.same(back.ids, m.ids, 'VOC colours map back to the class ids');
  // A grey mask holds ids as values (the fixture masks are stored this way).
  const grey = join(dir, 'grey.png');
  await sharp(Buffer.from(m.ids), { raw: { width: 9, height: 6, channels: 1 } })
    .png()
    .toFile(grey);
  t.same((await readClassMask(grey)).ids, m.ids);
  const odd = join(dir, 'odd.png');
  await sharp(Buffer.from([1, 2, 3]), { raw: { width: 1, height: 1, channels: 3 } })
    .png()
    .toFile(odd);
  await t.rejects(readClassMask(odd), /colour \(1, 2, 3\), which is not in the PASCAL VOC palette/);

  const img = { width: 20, height: 12, data: new Uint8Array(20 * 12 * 3).fill(200) };
  const ov = join(dir, 'overlay.png');
  await writeOverlay(ov, img, m, { alpha: 0.5 });
  const { data, info } = await sharp(ov).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  t.same([info.width, info.height], [20, 12], 'overlay at the image size');
  const layer = overlayLayer(m, 20, 12, 0.5);
  let far = 0;
  for (let i = 0; i < 20 * 12; i++) {
    for (let k = 0; k < 3; k++) {
      const a = layer[4 * i + 3]! / 255;
      const want = layer[4 * i + k]! * a + 200 * (1 - a);
      if (Math.abs(data[3 * i + k]! - want) > 1.5) far++;
    }
  }
  t.equal(far, 0, 'every pixel is the alpha blend of its class colour over the image');
  const jpg = join(dir, 'overlay.jpg');
  await writeOverlay(jpg, img, m);
  t.equal((await sharp(jpg).metadata()).format, 'jpeg', 'format from the extension');
  writeFileSync(join(dir, 'junk.png'), 'not a png');
  await t.rejects(readClassMask(join(dir, 'junk.png')), /cannot decode mask/);
  t.ok(readFileSync(maskFile).length > 0);
});
