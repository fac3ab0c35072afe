// The boundary between the lowering and the kernels against its one declaration, the
// kernel schema (src/kernels/schema/): the compiled module's exports (names, parameter
// types, no results) on both builds, the generated TypeScript (fresh against the
// generator, binders that turn named arguments positional, struct writers at the offsets
// the kernels read), and the manifest built from the schema.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNELS, type KernelName } from '../../src/kernels/schema/kernels.js';
import { Q8_BLOCK_DESC, Q8_RQ, Q8_TILE } from '../../src/kernels/schema/structs.js';
import { baseKind, requiredCount, type BaseKind } from '../../src/kernels/schema/types.js';
import { generateFiles, structOffsets } from '../../src/kernels/schema/generate.js';
import {
  bindKernels,
  encodeQ8BlockDesc,
  encodeQ8Rq,
  KERNEL_PARAMS,
  q8BlockDescBytes,
  Q8_DESC_OFFSETS,
  Q8_TILE_OFFSETS,
  type GeneratedKernels,
  type Q8BlockDescFields,
} from '../../src/kernels/gen/abi.js';
import { KERNEL_MANIFEST } from '../../src/kernels/manifest.js';
import { kernelWasmPath } from '../../src/kernels/node_loader.js';
import { packageRoot } from '../../src/package_root.js';
import { BUILDS } from './harness.js';

const VALTYPE: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/** Exported functions of a module binary with their parameter and result types (type, import, function and export sections). */
function exportedSignatures(bytes: Uint8Array): Map<string, { params: string[]; results: string[] }> {
  let pos = 8;
  const u32 = (): number => {
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
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const types: { params: string[]; results: string[] }[] = [];
  const funcTypes: number[] = [];
  const out = new Map<string, { params: string[]; results: string[] }>();
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    const next = pos + size;
    if (id === 1) {
      for (let i = u32(); i > 0; i--) {
        if (bytes[pos++] !== 0x60) throw new Error('type is not a function type');
        const params = Array.from({ length: u32() }, () => VALTYPE[bytes[pos++]!]!);
        const results = Array.from({ length: u32() }, () => VALTYPE[bytes[pos++]!]!);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let i = u32(); i > 0; i--) {
        name();
        name();
        const kind = bytes[pos++]!;
        if (kind === 0) funcTypes.push(u32());
        else if (kind === 2) {
          const flags = u32();
          u32();
          if (flags & 1) u32();
        } else throw new Error(`unexpected import kind ${kind}`);
      }
    } else if (id === 3) {
      for (let i = u32(); i > 0; i--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let i = u32(); i > 0; i--) {
        const n = name();
        const kind = bytes[pos++]!;
        const index = u32();
        if (kind === 0) out.set(n, types[funcTypes[index]!]!);
      }
    }
    pos = next;
  }
  return out;
}

/** The WebAssembly type of each parameter kind (usize is i32 on wasm32). */
const WASM_TYPE: Record<BaseKind, string> = {
  ptr: 'i32',
  i32: 'i32',
  f32: 'f32',
  usize: 'i32',
  sign: 'i32',
  bytes: 'i32',
};
const entries = Object.entries(KERNELS) as [KernelName, (typeof KERNELS)[KernelName]][];

t.test(
  'the module exports exactly the schema kernels, each with its parameters (order and types) and no result',
  async (t) => {
    for (const build of BUILDS) {
      const sigs = exportedSignatures(new Uint8Array(readFileSync(kernelWasmPath(build.debug))));
      const kernels = [...sigs.keys()].filter((n) => n !== 'abi_version' && n !== 'kernel_heap_base').sort();
      t.same(kernels, entries.map(([n]) => n).sort(), `${build.name}: export names`);
      for (const [name, spec] of entries) {
        const want = Object.values(spec.params).map((k) => WASM_TYPE[baseKind(k)]);
        t.same(
          sigs.get(name),
          { params: want, results: [] },
          `${build.name}: ${name}(${Object.keys(spec.params).join(', ')})`,
        );
      }
    }
  },
);

t.test('the generated files are what the generator makes of the schema now (run `npm run gen`)', async (t) => {
  for (const [path, text] of generateFiles()) {
    t.equal(readFileSync(join(packageRoot(), path), 'utf8'), text, path);
  }
});

t.test('the manifest has one entry per schema kernel, with its parameter names in order', async (t) => {
  t.same(
    KERNEL_MANIFEST.map((e) => [e.name, e.params]),
    entries.map(([n, s]) => [n, Object.keys(s.params)]),
  );
  for (const [name] of entries) t.same(KERNEL_PARAMS[name], Object.keys(KERNELS[name].params), name);
});

t.test('bindKernels turns named arguments positional once, and refuses missing or unknown names', async (t) => {
  const calls: [string, number[]][] = [];
  const fake = new Proxy({} as GeneratedKernels, {
    get:
      (_, name: string) =>
      (...args: number[]) =>
        calls.push([name, args]),
  });
  const bound = bindKernels(fake);
  const run = bound.q8_gemm({
    x: 1,
    M: 2,
    K: 3,
    xs: 4,
    w: 5,
    N: 6,
    b: 7,
    s: 8,
    y: 9,
    ys: 10,
    rq: 11,
    res: 0,
    rs: 12,
    sg: 1,
  });
  t.same(calls, [], 'binding does not call');
  run();
  run();
  t.same(calls, [
    ['q8_gemm', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 12, 1]],
    ['q8_gemm', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 12, 1]],
  ]);
  t.throws(() => bound.f32_add({ a: 1, b: 2, y: 3, n: 4, lo: 0 } as never), /f32_add: arguments missing hi/);
  t.throws(
    () => bound.f32_add({ a: 1, b: 2, y: 3, n: 4, lo: 0, hi: 6, z: 1 } as never),
    /f32_add: arguments unknown z/,
  );
});

t.test('struct writers put each named field at the offset the kernels read (gen/abi.ts constants)', async (t) => {
  t.same(
    Array.from(
      encodeQ8Rq({
        z: 1,
        lo: 2,
        hi: 3,
        residual: 4,
        zRes: 5,
        mP: 6,
        mRes: 7,
        shift: 8,
        zY: 9,
        loY: 10,
        hiY: 11,
        zw: 12,
      }),
    ),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    'Q8_RQ: 12 words in field order',
  );
  const abi = readFileSync(join(packageRoot(), 'assembly/gen/abi.ts'), 'utf8');
  for (const s of [Q8_RQ, Q8_TILE, Q8_BLOCK_DESC])
    for (const [, off] of structOffsets(s)) t.ok(off % 4 === 0 && off < s.bytes + 1, `${s.name} offset ${off}`);
  t.match(abi, /Q8_DESC_N_TILES: usize = 180;/, 'the tile count follows the 45 fields');
  t.match(abi, /Q8_DESC_TILES: usize = 192;/);
  const fields = Object.fromEntries(Q8_BLOCK_DESC.fields.map((f, i) => [f.name, 100 + i])) as Record<string, number>;
  const tile = { r0: 1, r1: 2, q0: 3, q1: 4, n0: 8, n1: 16, G: 8, acc: 2, accOffset: 64 };
  const words = encodeQ8BlockDesc({ ...fields, tiles: [tile, { ...tile, r0: 7 }] } as unknown as Q8BlockDescFields);
  t.equal(words.byteLength, q8BlockDescBytes(2));
  for (const [name, off] of Object.entries(Q8_DESC_OFFSETS))
    if (name in fields) t.equal(words[off / 4], fields[name], `desc.${name} at ${off}`);
  t.equal(words[Q8_DESC_OFFSETS.nTiles / 4], 2, 'nTiles');
  for (const [name, off] of Object.entries(Q8_TILE_OFFSETS)) {
    t.equal(words[(Q8_DESC_OFFSETS.tiles + off) / 4], tile[name as keyof typeof tile], `tile 0 .${name}`);
  }
  t.equal(words[(Q8_DESC_OFFSETS.tiles + Q8_TILE.bytes) / 4], 7, 'tile 1 follows at Q8_TILE.bytes');
});

t.test('optional trailing parameters: binders and the manifest take them as 0 when left out', async (t) => {
  t.throws(() => requiredCount({ a: 'i32?', b: 'i32' }), /optional parameters must come last/);
  const calls: number[][] = [];
  const fake = new Proxy({} as GeneratedKernels, {
    get:
      () =>
      (...args: number[]) =>
        calls.push(args),
  });
  const bound = bindKernels(fake) as unknown as Record<string, (a: Record<string, number>) => () => void>;
  for (const [name, spec] of entries) {
    const names = Object.keys(spec.params);
    const required = requiredCount(spec.params);
    if (required === names.length) continue;
    const args = Object.fromEntries(names.slice(0, required).map((p, i) => [p, i + 1]));
    calls.length = 0;
    bound[name]!(args)();
    t.same(
      calls,
      [[...names.map((_, i) => (i < required ? i + 1 : 0))]],
      `${name}: bound without its optional parameters`,
    );
    const short = names.slice(0, required).map((_, i) => 4096 * (i + 1));
    t.same(
      KERNEL_MANIFEST.find((e) => e.name === name)!.ranges(short),
      KERNEL_MANIFEST.find((e) => e.name === name)!.ranges([...short, ...names.slice(required).map(() => 0)]),
      `${name}: the manifest reads a left-out parameter as 0`,
    );
  }
});
