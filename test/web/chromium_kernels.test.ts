// The kernel module in headless Chromium: build/lowwater.wasm (and the debug build, which
// imports env.abort) instantiated in a cross-origin isolated page and in a dedicated Web
// Worker, q8_gemm run there on random uint8 and int8 data, and the output bytes compared
// with the same call in Node through the project's loader.
import t from 'tap';
import { basename, join } from 'node:path';
import { instantiateKernels, KERNEL_RESERVED_BYTES } from '../../src/kernels/loader.js';
import { kernelWasmPath, loadKernels } from '../../src/kernels/node_loader.js';
import { foldQ8Bias, packQ8Gemm, padQ8Scales, q8KernelZeroPoint, q8OutputParams } from '../../src/kernels/q8_pack.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { DTYPES, qArray, randInts, spreadScales } from '../q8/helpers.js';
import { chromiumSkip, servePage, withChromium, type Realm } from './chromium.js';

/** Bytes an unwritten output keeps: a kernel that did not run cannot match Node's bytes. */
const UNWRITTEN = 0xa5;

/** One q8_gemm call as a memory image: its operands laid out from KERNEL_RESERVED_BYTES up. */
interface Case {
  name: string;
  /** Operand bytes, to be copied to KERNEL_RESERVED_BYTES. */
  image: Uint8Array;
  args: number[];
  out: { ptr: number; bytes: number };
  pages: number;
}

function gemmCase(dtype: 'u8' | 'i8', sg: number, M: number, K: number, N: number, seed: number): Case {
  const x = qArray(dtype, M * K, seed);
  const w = qArray(dtype, N * K, seed + 1);
  const [qmin, qmax] = dtype === 'u8' ? [0, 255] : [-128, 127];
  const zx = randInts(1, qmin, qmax, seed + 2)[0]!;
  // As the kernels take them: one zero point for all uint8 channels, 0 for int8 (TFLite's int8 filters).
  const zw =
    dtype === 'u8' ? new Array<number>(N).fill(randInts(1, qmin, qmax, seed + 3)[0]!) : new Array<number>(N).fill(0);
  const bias = Int32Array.from(randInts(N, -20000, 20000, seed + 4));
  const zOut = randInts(1, qmin + 60, qmax - 60, seed + 5)[0]!;
  const parts: [string, ArrayBufferView][] = [
    ['x', x],
    ['w', packQ8Gemm(w, N, K, zw)],
    ['b', foldQ8Bias(bias, w, N, K, zw, zx)],
    ['s', padQ8Scales(spreadScales(N, K, seed + 6), N)],
    ['rq', q8OutputParams(zOut, qmin + 10, qmax - 5, undefined, q8KernelZeroPoint(w, zw))],
    ['y', new Uint8Array(M * N).fill(UNWRITTEN)],
  ];
  const at = new Map<string, number>();
  let end = 0;
  for (const [name, v] of parts) {
    at.set(name, KERNEL_RESERVED_BYTES + end);
    end += (v.byteLength + 15) & ~15;
  }
  const image = new Uint8Array(end);
  for (const [name, v] of parts)
    image.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at.get(name)! - KERNEL_RESERVED_BYTES);
  const p = (name: string) => at.get(name)!;
  return {
    name: `q8_gemm ${dtype} M=${M} K=${K} N=${N}`,
    image,
    args: [p('x'), M, K, K, p('w'), N, p('b'), p('s'), p('y'), N, p('rq'), 0, 0, sg],
    out: { ptr: p('y'), bytes: M * N },
    pages: Math.ceil((KERNEL_RESERVED_BYTES + end) / 65536),
  };
}

const CASES = DTYPES.map(({ dtype, sg }, i) => gemmCase(dtype, sg, 37, 96, 43, 7001 + 10 * i));

async function inNode(debug: boolean, c: Case): Promise<number[]> {
  const k = instantiateKernels(await loadKernels({ debug }), new WebAssembly.Memory({ initial: c.pages }));
  new Uint8Array(k.memory.buffer).set(c.image, KERNEL_RESERVED_BYTES);
  (k.q8_gemm as (...a: number[]) => void)(...c.args);
  return Array.from(new Uint8Array(k.memory.buffer, c.out.ptr, c.out.bytes));
}

interface RealmCall {
  wasmUrl: string;
  imageUrl: string;
  base: number;
  pages: number;
  args: number[];
  out: { ptr: number; bytes: number };
}

/**
 * Runs in the browser (page or worker; sent as source, so self-contained): instantiates
 * the module on its own memory, copies the operands in, calls q8_gemm, returns the output
 * bytes and what the realm is.
 */
async function inRealm(c: RealmCall): Promise<{ out: number[]; isolated: boolean; worker: boolean }> {
  const module = await WebAssembly.compileStreaming(fetch(c.wasmUrl));
  const memory = new WebAssembly.Memory({ initial: c.pages });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort: (_m: number, _f: number, line: number, col: number) => {
        throw new Error(`kernel assertion failed at ${line}:${col}`);
      },
    },
  });
  const image = new Uint8Array(await (await fetch(c.imageUrl)).arrayBuffer());
  new Uint8Array(memory.buffer).set(image, c.base);
  (instance.exports.q8_gemm as (...a: number[]) => void)(...c.args);
  const g = globalThis as unknown as { crossOriginIsolated: boolean; document?: unknown };
  return {
    out: Array.from(new Uint8Array(memory.buffer, c.out.ptr, c.out.bytes)),
    isolated: g.crossOriginIsolated,
    worker: g.document === undefined,
  };
}

t.test(
  'build/lowwater.wasm in Chromium: page and worker give the bytes Node gives',
  { skip: chromiumSkip() },
  async (t) => {
    const files: Record<string, Uint8Array> = {};
    CASES.forEach((c, i) => (files[`/case${i}.bin`] = c.image));
    const site = await servePage(join(REPO_ROOT, 'build'), { files });
    try {
      await withChromium(async (browser) => {
        const page = await browser.open(site.url('/'));
        const realms: [string, Realm][] = [
          ['page', page],
          ['worker', await page.worker()],
        ];
        for (const debug of [false, true]) {
          for (const [i, c] of CASES.entries()) {
            const want = await inNode(debug, c);
            t.ok(want.some((b) => b !== UNWRITTEN) && new Set(want).size > 8, `${c.name}: Node wrote a varied output`);
            for (const [where, realm] of realms) {
              const got = await realm.evaluate(inRealm, {
                wasmUrl: `/${basename(kernelWasmPath(debug))}`,
                imageUrl: `/case${i}.bin`,
                base: KERNEL_RESERVED_BYTES,
                pages: c.pages,
                args: c.args,
                out: c.out,
              });
              const label = `${c.name} [${debug ? 'debug' : 'release'}] in the ${where}`;
              t.equal(got.worker, where === 'worker', `${label}: ran in a ${where}`);
              t.ok(got.isolated, `${label}: cross-origin isolated`);
              t.same(got.out, want, `${label}: bytes equal Node's`);
            }
          }
        }
        t.same(page.errors, [], 'no console errors, uncaught exceptions or failed requests');
      });
    } finally {
      await site.close();
    }
    // compileStreaming refuses a response that is not application/wasm: the server's MIME type is checked too.
    t.ok(
      site.log.includes('200 /lowwater.wasm') && site.log.includes('200 /lowwater.debug.wasm'),
      'both builds were served',
    );
  },
);
