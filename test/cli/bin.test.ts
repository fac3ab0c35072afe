// The installed command: `lowwater classify IMAGE` with the built-in default
// model, offline (no registry download: the default model ships in the package's build/models).
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { REPO_ROOT, skipWithout } from '../helpers/fixtures.js';

const run = promisify(execFile);
const bin = join(REPO_ROOT, 'bin', 'lowwater.js');
const built = existsSync(join(REPO_ROOT, 'dist', 'main.js'));

t.test(
  'bin/lowwater.js classifies a photo with the default model, offline',
  { skip: skipWithout(built ? false : 'dist/ is not built: run `npm run build` (npm ci does it)') },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-bin-'));
    const photo = join(dir, 'photo.jpg');
    // A synthetic photo: a smooth colour gradient, 300x200.
    const w = 300,
      h = 200;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([x % 256, y, (x + y) % 256], (y * w + x) * 3);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg()
      .toFile(photo);
    const env = {
      ...process.env,
      LOWWATER_CACHE: join(dir, 'cache'),
      LOWWATER_MODELS: join(dir, 'none'),
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
    };
    const { stdout } = await run(process.execPath, [bin, 'classify', photo, '--json'], { env, cwd: dir });
    const j = JSON.parse(stdout);
    t.match(j.model, /nsfw_mobilenet_v2/);
    t.equal(j.results[0].top.length, 5);
    const sum = j.results[0].top.reduce((s: number, e: { score: number }) => s + e.score, 0);
    t.ok(Math.abs(sum - 1) < 1e-4, `5 class probabilities sum to 1 (${sum})`);
    t.ok(j.memory.measuredPeakBytes > 0 && j.memory.measuredPeakBytes <= j.memory.arenaBytes);
    const help = await run(process.execPath, [bin, '--help'], { env });
    t.match(help.stdout, /classify IMAGE/);
    await t.rejects(run(process.execPath, [bin, 'frobnicate'], { env }), { code: 2 });
  },
);
