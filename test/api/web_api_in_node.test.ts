// The web entry (`lowwater/web`), run in Node: its decoders against sharp, and its outputs against the Node entry's.
// The same entry runs in Chromium, workerd and Deno in test/web/.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { loadModel as loadWeb } from '../../src/web.js';
import { loadModel as loadNode } from '../../src/index.js';
import { decodeImageBytes } from '../../src/preprocess/web_decode.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { kernelWasmPath } from '../../src/kernels/node_loader.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const images = () => readdirSync(fixturePath('images')).sort();

t.test('PNG: the web decoder gives sharp’s pixels on every fixture PNG', { skip: skipUnless('images') }, async (t) => {
  for (const f of images().filter((f) => f.endsWith('.png'))) {
    const bytes = new Uint8Array(readFileSync(fixturePath('images', f)));
    const web = await decodeImageBytes(bytes, f);
    const ref = await decodeImage(fixturePath('images', f));
    t.same([web.width, web.height], [ref.width, ref.height], `${f}: size`);
    t.ok(Buffer.from(web.data).equals(Buffer.from(ref.data)), `${f}: RGB bytes equal sharp's`);
  }
});

t.test('PNG colour types and depths decode as sharp decodes them', async (t) => {
  const w = 37,
    h = 23;
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, (i * 3) % 256], i * 4);
  const base = () => sharp(rgba, { raw: { width: w, height: h, channels: 4 } });
  const cases: [string, Buffer][] = [
    ['RGBA 8-bit', await base().png().toBuffer()],
    ['RGB 8-bit', await base().removeAlpha().png().toBuffer()],
    ['grey 8-bit', await base().removeAlpha().greyscale().png().toBuffer()],
    ['grey + alpha', await base().greyscale().png().toBuffer()],
    ['palette', await base().removeAlpha().png({ palette: true, colours: 64, dither: 0 }).toBuffer()],
    ['RGB 16-bit', await base().removeAlpha().toColourspace('rgb16').png().toBuffer()],
    ['interlaced', await base().png({ progressive: true }).toBuffer()],
  ];
  for (const [name, png] of cases) {
    const web = await decodeImageBytes(new Uint8Array(png), name);
    const ref = await decodeImage(new Uint8Array(png), name);
    t.ok(Buffer.from(web.data).equals(Buffer.from(ref.data)), `${name}: RGB bytes equal sharp's`);
  }
});

t.test('bad bytes: errors name the image and say what the web entry takes', async (t) => {
  await t.rejects(decodeImageBytes(new Uint8Array([1, 2, 3, 4]), 'x.bin'), /'x.bin'.*not PNG or JPEG.*pixels/);
  const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0]);
  await t.rejects(decodeImageBytes(gif, 'a.gif'), /GIF is not PNG or JPEG/);
  const png = new Uint8Array(
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123' } })
      .png()
      .toBuffer(),
  );
  await t.rejects(decodeImageBytes(png.slice(0, 40), 'cut.png'), /cannot decode PNG 'cut.png'/);
  const jpg = new Uint8Array(
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123' } })
      .jpeg()
      .toBuffer(),
  );
  await t.rejects(decodeImageBytes(jpg.slice(0, 30), 'cut.jpg'), /cannot decode JPEG 'cut.jpg'/);
});

t.test(
  'web entry in Node: byte-equal outputs on PNGs, the same top-1 on JPEGs, as the Node entry',
  { skip: skipUnless('models', Q8) },
  async (t) => {
    const modelBytes = new Uint8Array(readFileSync(fixturePath('models', Q8)));
    const web = await loadWeb(modelBytes, { kernels: new Uint8Array(readFileSync(kernelWasmPath())) });
    const node = await loadNode(fixturePath('models', Q8));
    t.same(web.plan.plan, node.plan.plan, 'the same plan');
    for (const f of images().filter((f) => /\.(png|jpe?g)$/.test(f))) {
      const bytes = new Uint8Array(readFileSync(fixturePath('images', f)));
      const a = await web.classify(bytes);
      const b = await node.classify(fixturePath('images', f));
      if (f.endsWith('.png')) t.same(Array.from(a.output), Array.from(b.output), `${f}: output bytes equal`);
      else t.equal(a.top[0]!.index, b.top[0]!.index, `${f}: same top-1 (JPEG decoders differ slightly)`);
    }
    // ImageData-like input (RGBA, no channels field) and a Response.
    const rgb = await decodeImage(fixturePath('images', 'cat.png'));
    const data = new Uint8ClampedArray(rgb.width * rgb.height * 4);
    for (let i = 0; i < rgb.width * rgb.height; i++) data.set([...rgb.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
    const fromImageData = await web.classify({ data, width: rgb.width, height: rgb.height });
    const fromResponse = await web.classify(new Response(readFileSync(fixturePath('images', 'cat.png'))));
    const ref = await node.classify(fixturePath('images', 'cat.png'));
    t.same(Array.from(fromImageData.output), Array.from(ref.output), 'ImageData gives the same output');
    t.same(Array.from(fromResponse.output), Array.from(ref.output), 'a Response gives the same output');
    await t.rejects(web.classify('cat.png' as never), /image must be pixels/);
    await t.rejects(loadWeb(new Uint8Array(16)), /not a TFLite model/);
  },
);
