/**
 * TFLite-WASM (tfjs-tflite, XNNPACK, SIMD; its threaded build where the page is
 * cross-origin isolated) in a headless Chromium page, for bench/threads.ts: one page per
 * thread count, each with the model loaded; run(n) times n inferences.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  launchChromium,
  servePage,
  type ChromiumSession,
  type ServedPage,
  type WebPage,
} from '../test/web/chromium.js';
import { tfliteInstallDir, HOW_TO_INSTALL } from './tflite/runner.mjs';

export interface TflitePage {
  threads: number;
  /** The build tfjs-tflite chose (its .wasm file name, from the page's requests). */
  build: string;
  run(n: number): Promise<number[]>;
  /** performance.measureUserAgentSpecificMemory() of the page (bytes), or -1 when it fails. */
  memory(): Promise<number>;
}

const PAGE = `<!doctype html><meta charset="utf-8">
<script src="/tf-core.min.js"></script>
<script src="/tf-backend-cpu.min.js"></script>
<script src="/tf-tflite.min.js"></script>
<script>
window.setup = async (threads) => {
  tflite.setWasmPath(location.origin + '/');
  window.model = await tflite.loadTFLiteModel('/model.tflite', { numThreads: threads });
  const n = 224 * 224 * 3, px = new Uint8Array(n);
  for (let i = 0; i < n; i++) px[i] = (i * 37 + (i >> 7)) & 255;
  window.input = tf.tensor(px, [1, 224, 224, 3], 'int32').cast('int32');
  window.px = px;
  window.once = () => {
    const x = tf.tensor(window.px, [1, 224, 224, 3], 'int32');
    const t0 = performance.now();
    const y = window.model.predict(x);
    y.dataSync();
    const ms = performance.now() - t0;
    x.dispose(); y.dispose();
    return ms;
  };
  window.once();
  return crossOriginIsolated;
};
</script>`;

export async function openTflitePages(
  modelPath: string,
  threadCounts: number[],
): Promise<{ session: ChromiumSession; site: ServedPage; pages: TflitePage[] }> {
  const dir = tfliteInstallDir();
  if (!dir) throw new Error(HOW_TO_INSTALL);
  const tfDir = join(dir, '..');
  const site = await servePage(join(dir, 'wasm'), {
    files: {
      '/index.html': PAGE,
      '/tf-core.min.js': readFileSync(join(tfDir, 'tfjs-core', 'dist', 'tf-core.min.js')),
      '/tf-backend-cpu.min.js': readFileSync(join(tfDir, 'tfjs-backend-cpu', 'dist', 'tf-backend-cpu.min.js')),
      '/tf-tflite.min.js': readFileSync(join(dir, 'dist', 'tf-tflite.min.js')),
      '/model.tflite': readFileSync(modelPath),
    },
  });
  const session = await launchChromium();
  const pages: TflitePage[] = [];
  for (const threads of threadCounts) {
    const before = site.log.length;
    const page: WebPage = await session.open(site.url('/index.html'));
    const isolated = await page.evaluate((t: number) => (globalThis as any).setup(t), threads);
    if (!isolated) throw new Error('the TFLite page is not cross-origin isolated: no threaded build');
    const build =
      site.log
        .slice(before)
        .find((l) => l.endsWith('.wasm'))
        ?.replace(/^\d+ \/(wasm\/)?/, '') ?? '?';
    pages.push({
      threads,
      build,
      run: (n) =>
        page.evaluate((k: number) => {
          const ms: number[] = [];
          for (let i = 0; i < k; i++) ms.push((globalThis as any).once());
          return ms;
        }, n),
      memory: () =>
        page.evaluate(async () => {
          try {
            return (await (performance as any).measureUserAgentSpecificMemory()).bytes as number;
          } catch {
            return -1;
          }
        }, undefined),
    });
  }
  return { session, site, pages };
}
