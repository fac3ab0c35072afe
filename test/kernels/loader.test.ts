// The loader and the module's shape: KERNEL_RESERVED_BYTES measured from both builds'
// data segments and heap base, imports and exports, the manifest covering every kernel,
// and the debug build's assertions.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { instantiateKernels, KERNEL_RESERVED_BYTES } from '../../src/kernels/loader.js';
import { kernelWasmPath, loadKernels } from '../../src/kernels/node_loader.js';
import { KERNEL_MANIFEST, withRangeChecks, type KernelName } from '../../src/kernels/manifest.js';
import { BUILDS } from './harness.js';

/** End (exclusive) of the highest active data segment, parsed from the binary. */
function dataEnd(bytes: Uint8Array): number {
  let pos = 8;
  const leb = (): number => {
    let r = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[pos++]!;
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  const sleb = (): number => {
    let r = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[pos++]!;
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? r | (-1 << shift) : r;
  };
  let end = 0;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = leb();
    const next = pos + size;
    if (id === 11) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const flags = leb();
        if (flags === 1) {
          pos += leb();
          continue;
        } // passive: not placed in memory
        if (flags === 2) leb(); // memory index
        if (bytes[pos++] !== 0x41) throw new Error('data segment offset is not i32.const');
        const offset = sleb();
        if (bytes[pos++] !== 0x0b) throw new Error('data segment offset expression not ended');
        const len = leb();
        pos += len;
        end = Math.max(end, offset + len);
      }
    }
    pos = next;
  }
  return end;
}

t.test(
  'KERNEL_RESERVED_BYTES covers both builds, ≤ 64 KiB, and is their measured need rounded up to a KiB',
  async (t) => {
    let need = 0;
    for (const build of BUILDS) {
      const bytes = readFileSync(kernelWasmPath(build.debug));
      const k = instantiateKernels(await loadKernels({ debug: build.debug }), new WebAssembly.Memory({ initial: 1 }));
      const heapBase = k.kernel_heap_base();
      const end = dataEnd(bytes);
      t.ok(end <= heapBase, `${build.name}: data segments end (${end}) at or below the heap base (${heapBase})`);
      need = Math.max(need, heapBase, end);
    }
    t.ok(need <= KERNEL_RESERVED_BYTES, `measured ${need} ≤ ${KERNEL_RESERVED_BYTES}`);
    t.equal(KERNEL_RESERVED_BYTES, Math.ceil(need / 1024) * 1024, 'the constant tracks the module');
    t.ok(KERNEL_RESERVED_BYTES <= 65536);
  },
);

t.test('module imports only env.memory (and env.abort in debug)', async (t) => {
  for (const build of BUILDS) {
    const m = await loadKernels({ debug: build.debug });
    const imports = WebAssembly.Module.imports(m)
      .map((i) => `${i.module}.${i.name}:${i.kind}`)
      .sort();
    t.same(imports, build.debug ? ['env.abort:function', 'env.memory:memory'] : ['env.memory:memory'], build.name);
  }
});

t.test('the manifest has exactly the exported kernels, and the Kernels object exposes them', async (t) => {
  for (const build of BUILDS) {
    const m = await loadKernels({ debug: build.debug });
    const exported = WebAssembly.Module.exports(m)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name)
      .filter((n) => n !== 'abi_version' && n !== 'kernel_heap_base')
      .sort();
    t.same(KERNEL_MANIFEST.map((e) => e.name).sort(), exported, build.name);
    const k = instantiateKernels(m, new WebAssembly.Memory({ initial: 1 }));
    for (const n of exported) t.type(k[n as KernelName], 'function', `${build.name}: ${n}`);
    t.equal(k.debug, build.debug);
  }
});

t.test('debug build: a bad shape argument raises a readable assertion; release does not check', async (t) => {
  const dbg = instantiateKernels(await loadKernels({ debug: true }), new WebAssembly.Memory({ initial: 1 }));
  t.throws(
    () => dbg.f32_gemm_1x1(4096, 1, 0, 4096, 0, 4096, 1, 0, 6, 0, 0),
    /kernel assertion failed: f32_gemm_1x1: bad M, K or N at .*gen\/exports\.ts/,
  );
  t.throws(
    () => dbg.f32_dwconv3x3_generic(4096, 3, 3, 1, 4096, 3, 3, 1, 0, 1, 1, 1, 1, 4096, 0, 0, 6),
    /bad stride or dilation/,
  );
  const rel = instantiateKernels(await loadKernels({ debug: false }), new WebAssembly.Memory({ initial: 1 }));
  t.doesNotThrow(() => rel.f32_add(4096, 4096, 4096, 0, 0, 6));
});

t.test('withRangeChecks sees every call with its ranges and can refuse it', async (t) => {
  const k = instantiateKernels(await loadKernels(), new WebAssembly.Memory({ initial: 1 }));
  const seen: string[] = [];
  const checked = withRangeChecks(k, (name, r) => {
    seen.push(
      `${name} r${r.reads.map((x) => `${x.operand}@${x.start}+${x.bytes}`).join(',')} w${r.writes.map((x) => `${x.operand}@${x.start}+${x.bytes}`).join(',')}`,
    );
    if (r.writes.some((w) => w.start < KERNEL_RESERVED_BYTES))
      throw new Error(`${name}: writes into the reserved bytes`);
  });
  checked.f32_add(8192, 8200, 8208, 2, 0, 6);
  t.same(seen, ['f32_add ra@8192+8,b@8200+8 wy@8208+8']);
  t.throws(() => checked.f32_add(8192, 8200, 16, 2, 0, 6), /reserved/);
  t.equal(checked.memory, k.memory);
});
