import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelInput, decodeImage, ImageError } from '../../src/preprocess/image.js';
import { resizeBilinearHalfPixel } from '../../src/preprocess/resize.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

const refs = [
  'mobilenet_v2_1.0_224_quant.json',
  'tf2_mobilenet_v2_1.0_224_ptq.json',
  'mobilenet_v2_1.0_224_inat_bird_quant.json',
];

t.test(
  'model-input bytes hash to every reference input_sha256',
  { skip: skipUnless('reference', refs[0]!) },
  async (t) => {
    for (const name of refs) {
      const ref = readReference(name);
      for (const r of ref.results as { image: string; input_sha256: string }[]) {
        const input = await loadModelInput(fixturePath(r.image), 224, 224);
        t.equal(input.sha256, r.input_sha256, `${name}: ${r.image}`);
      }
    }
    const ns = readReference('nsfwjs_mobilenet_v2.json');
    for (const r of ns.results as { image: string; uint8_halfpixel_input: { input_sha256: string } }[]) {
      const input = await loadModelInput(fixturePath(r.image), 224, 224);
      t.equal(input.sha256, r.uint8_halfpixel_input.input_sha256, `nsfwjs: ${r.image}`);
    }
  },
);

t.test('resize follows the half-pixel formula computed independently in float64', async (t) => {
  // Independent per-pixel evaluation of the README formula, on random images of awkward sizes.
  let seed = 7;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) >>> 24;
  for (const [sw, sh, dw, dh] of [
    [5, 3, 7, 4],
    [17, 11, 4, 9],
    [1, 1, 3, 2],
    [8, 8, 8, 8],
    [300, 7, 13, 13],
  ] as const) {
    const src = Uint8Array.from({ length: sw * sh * 3 }, rnd);
    const got = resizeBilinearHalfPixel(src, sw, sh, 3, dw, dh);
    let bad = 0;
    for (let y = 0; y < dh; y++)
      for (let x = 0; x < dw; x++)
        for (let c = 0; c < 3; c++) {
          const sx = ((x + 0.5) * sw) / dw - 0.5,
            sy = ((y + 0.5) * sh) / dh - 0.5;
          const x0 = Math.floor(sx),
            y0 = Math.floor(sy),
            fx = sx - x0,
            fy = sy - y0;
          const cx = (v: number) => Math.min(Math.max(v, 0), sw - 1),
            cy = (v: number) => Math.min(Math.max(v, 0), sh - 1);
          const p = (yy: number, xx: number) => src[(cy(yy) * sw + cx(xx)) * 3 + c]!;
          const v =
            (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) +
            fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1));
          if (got[(y * dw + x) * 3 + c] !== Math.min(255, Math.max(0, Math.round(v)))) bad++;
        }
    t.equal(bad, 0, `${sw}x${sh} → ${dw}x${dh}`);
  }
});

t.test('bad images give errors that name the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-img-'));
  const junk = join(dir, 'not-an-image.png');
  writeFileSync(junk, 'this is text, not a PNG');
  await t.rejects(decodeImage(junk), { name: 'ImageError', message: /not-an-image\.png/ });
  await t.rejects(decodeImage(join(dir, 'missing.jpg')), { message: /missing\.jpg.*no such file/ });
  const truncated = join(dir, 'truncated.png');
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .png()
    .toBuffer();
  writeFileSync(truncated, png.subarray(0, png.length >> 1));
  await t.rejects(decodeImage(truncated), { name: 'ImageError', message: /truncated\.png/ });
  const grey = join(dir, 'grey.png');
  writeFileSync(
    grey,
    await sharp({ create: { width: 4, height: 2, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .greyscale()
      .png()
      .toBuffer(),
  );
  const g = await decodeImage(grey);
  t.same([g.width, g.height, g.data.length, g.data[5]], [4, 2, 24, 90], 'grey PNG expands to RGB');
});
