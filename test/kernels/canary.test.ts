// Memory-safety tests for every kernel in the manifest, on both builds:
//  1. canary: memory around and between all buffers is painted; after the call no byte
//     outside the output's range has changed, and the highest byte written (the executor's
//     "stack painting" scan) is inside the output;
//  2. no over-read / over-write: each operand in turn is placed flush against the end of
//     the WebAssembly memory, so touching one byte past it traps; the result must equal
//     the result of the normal layout.
import t from 'tap';
import { instantiateKernels, KERNEL_RESERVED_BYTES, type Kernels } from '../../src/kernels/loader.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { KERNEL_MANIFEST, KERNEL_MANIFEST_BY_NAME, rangeEnd, type KernelName } from '../../src/kernels/manifest.js';
import {
  packConv,
  packConv3x3,
  packDepthwise3x3,
  packFullyConnected,
  packFusedBlock,
  packGemm1x1,
} from '../../src/kernels/pack.js';
import { BUILDS, CANARY, rand } from './harness.js';

interface Operand {
  name: string;
  data?: Float32Array;
  bytes: number;
}
interface Case {
  name: KernelName;
  label: string;
  ops: Operand[];
  args(p: Record<string, number>): number[];
}

const f = (name: string, data: Float32Array): Operand => ({ name, data, bytes: data.byteLength });
const out = (name: string, floats: number): Operand => ({ name, bytes: floats * 4 });

function fusedWeights(cIn: number, cExp: number, cOut: number, stem: boolean, g: number, seed: number): Float32Array {
  const k = stem ? 9 * cIn : cIn;
  return packFusedBlock(
    {
      expand: rand(cExp * k, seed),
      expandBias: rand(cExp, seed + 1),
      depthwise: rand(9 * cExp, seed + 2),
      depthwiseBias: rand(cExp, seed + 3),
      project: rand(cOut * cExp, seed + 4),
      projectBias: rand(cOut, seed + 5),
    },
    cIn,
    cExp,
    cOut,
    stem,
    g,
  );
}

// Odd sizes everywhere: channel tails of 1..3 lanes, rows that are not a multiple of 4.
const CASES: Case[] = [
  {
    name: 'f32_gemm_1x1',
    label: 'M=7 K=13 N=11 bias+res+accumulate',
    ops: [
      f('x', rand(7 * 13, 1)),
      f('w', packGemm1x1(rand(11 * 13, 2), 11, 13)),
      f('b', rand(11, 3)),
      f('res', rand(77, 4)),
      f('y', rand(77, 5)),
    ],
    args: (p) => [p.x!, 7, 13, p.w!, p.b!, p.y!, 11, 0, 6, p.res!, 1],
  },
  {
    name: 'f32_gemm_1x1',
    label: 'M=5 K=3 N=1',
    ops: [f('x', rand(15, 6)), f('w', packGemm1x1(rand(3, 7), 1, 3)), out('y', 5)],
    args: (p) => [p.x!, 5, 3, p.w!, 0, p.y!, 1, -Infinity, Infinity, 0, 0],
  },
  {
    name: 'f32_conv3x3_s2',
    label: '9x7x3→13 SAME',
    ops: [
      f('x', rand(9 * 7 * 3, 8)),
      f('w', packConv3x3(rand(13 * 27, 9), 13, 3)),
      f('b', rand(13, 10)),
      out('y', 5 * 4 * 13),
    ],
    args: (p) => [p.x!, 9, 7, 3, p.y!, 5, 4, 13, 1, 1, p.w!, p.b!, 0, 6],
  },
  {
    name: 'f32_conv2d_generic',
    label: '6x9x5→7 k3x2 s1,2 d2,1',
    ops: [
      f('x', rand(6 * 9 * 5, 11)),
      f('w', packConv(rand(7 * 6 * 5, 12), 7, 3, 2, 5)),
      f('b', rand(7, 13)),
      out('y', 6 * 5 * 7),
    ],
    args: (p) => [p.x!, 6, 9, 5, p.y!, 6, 5, 7, 3, 2, 1, 2, 2, 1, 2, 0, p.w!, p.b!, -Infinity, Infinity],
  },
  {
    name: 'f32_dwconv3x3_s1',
    label: '5x6x13 SAME',
    ops: [
      f('x', rand(5 * 6 * 13, 14)),
      f('w', packDepthwise3x3(rand(9 * 13, 15), 13)),
      f('b', rand(13, 16)),
      out('y', 5 * 6 * 13),
    ],
    args: (p) => [p.x!, 5, 6, 13, p.y!, 5, 6, 1, 1, p.w!, p.b!, 0, 6],
  },
  {
    name: 'f32_dwconv3x3_s2',
    label: '7x5x10 SAME',
    ops: [
      f('x', rand(7 * 5 * 10, 17)),
      f('w', packDepthwise3x3(rand(90, 18), 10)),
      f('b', rand(10, 19)),
      out('y', 4 * 3 * 10),
    ],
    args: (p) => [p.x!, 7, 5, 10, p.y!, 4, 3, 1, 1, p.w!, p.b!, 0, 6],
  },
  {
    name: 'f32_dwconv3x3_generic',
    label: '9x9x7 d2 SAME',
    ops: [f('x', rand(9 * 9 * 7, 20)), f('w', packDepthwise3x3(rand(63, 21), 7)), out('y', 9 * 9 * 7)],
    args: (p) => [p.x!, 9, 9, 7, p.y!, 9, 9, 1, 1, 2, 2, 2, 2, p.w!, 0, -Infinity, Infinity],
  },
  {
    name: 'f32_global_avgpool',
    label: 'HW=5 C=11',
    ops: [f('x', rand(55, 22)), out('y', 11)],
    args: (p) => [p.x!, 5, 11, p.y!],
  },
  {
    name: 'f32_avgpool_generic',
    label: '5x5x6 k3 s2 SAME',
    ops: [f('x', rand(150, 23)), out('y', 3 * 3 * 6)],
    args: (p) => [p.x!, 5, 5, 6, p.y!, 3, 3, 3, 3, 2, 2, 1, 1, -Infinity, Infinity],
  },
  {
    name: 'f32_fully_connected',
    label: 'K=19 N=13',
    ops: [
      f('x', rand(19, 24)),
      f('w', packFullyConnected(rand(13 * 19, 25), 13, 19)),
      f('b', rand(13, 26)),
      out('y', 13),
    ],
    args: (p) => [p.x!, 19, p.w!, p.b!, p.y!, 13, 0, 6],
  },
  {
    name: 'f32_add',
    label: 'n=23',
    ops: [f('a', rand(23, 27)), f('b', rand(23, 28)), out('y', 23)],
    args: (p) => [p.a!, p.b!, p.y!, 23, 0, 6],
  },
  { name: 'f32_softmax', label: 'n=13', ops: [f('x', rand(13, 29)), out('y', 13)], args: (p) => [p.x!, 13, p.y!, 1] },
  {
    name: 'f32_resize_bilinear',
    label: '3x4x5→7x9',
    ops: [f('x', rand(60, 30)), out('y', 7 * 9 * 5)],
    args: (p) => [p.x!, 3, 4, 5, p.y!, 7, 9, 0, 1],
  },
  {
    name: 'f32_argmax_channels',
    label: 'P=6 C=7',
    ops: [f('x', rand(42, 31)), out('y', 6)],
    args: (p) => [p.x!, 6, 7, p.y!],
  },
  {
    name: 'f32_resize_argmax',
    label: '3x4x5→7x9 u8 ids',
    ops: [f('x', rand(60, 34)), { name: 'y', bytes: 7 * 9 }],
    args: (p) => [p.x!, 3, 4, 5, p.y!, 7, 9, 1, 0, 0],
  },
  {
    name: 'f32_resize_argmax',
    label: '4x3x6→5x7 i32 ids',
    ops: [f('x', rand(72, 35)), out('y', 5 * 7)],
    args: (p) => [p.x!, 4, 3, 6, p.y!, 5, 7, 0, 1, 1],
  },
  {
    name: 'copy_strided',
    label: '5 rows of 12 bytes',
    ops: [f('src', rand(15, 32)), f('dst', rand(5 * 7, 33))],
    args: (p) => [p.src!, p.dst! + 8, 5, 12, 12, 28],
  },
  // Fused block 5x6x3 → 10 → 3, s1, residual, groups of 4 (4, 4, 2), a 3-row ring, 1-row bands.
  {
    name: 'f32_block_fused',
    label: '5x6x3→10→3 s1 +res g4 ring3 band1',
    ops: [
      f('x', rand(90, 34)),
      f('w', fusedWeights(3, 10, 3, false, 4, 35)),
      f('res', rand(5 * 6 * 3, 36)),
      out('y', 5 * 6 * 3),
      out('e', 3 * 6 * 4),
      out('d', 6 * 4),
    ],
    args: (p) => [
      p.x!,
      5,
      6,
      3,
      0,
      5,
      6,
      0,
      0,
      10,
      1,
      1,
      1,
      1,
      1,
      1,
      p.y!,
      5,
      6,
      3,
      p.w!,
      p.res!,
      -Infinity,
      Infinity,
      p.e!,
      p.d!,
      4,
      3,
      1,
    ],
  },
  // Stem form: 9x7x3 → conv 3x3/2 (5x4x6) → dw s2 (3x2x6) → 5, one group, the whole 5-row expanded image, 2-row bands.
  {
    name: 'f32_block_fused',
    label: 'stem 9x7x3→6→5 s2 g6 ring5 band2',
    ops: [
      f('x', rand(9 * 7 * 3, 37)),
      f('w', fusedWeights(3, 6, 5, true, 6, 38)),
      out('y', 3 * 2 * 5),
      out('e', 5 * 4 * 6),
      out('d', 2 * 2 * 6),
    ],
    args: (p) => [p.x!, 9, 7, 3, 1, 5, 4, 1, 1, 6, 2, 2, 1, 1, 1, 0, p.y!, 3, 2, 5, p.w!, 0, 0, 6, p.e!, p.d!, 6, 5, 2],
  },
  // Row-streamed: rows 1..2 of the first block, x a ring of 4 rows (the residual too), y a ring of 2.
  {
    name: 'f32_block_fused',
    label: 'row-streamed 5x6x3→10→3 s1 +res g4 rows 1..2, rings x4 y2',
    ops: [
      f('x', rand(4 * 6 * 3, 39)),
      f('w', fusedWeights(3, 10, 3, false, 4, 40)),
      out('y', 2 * 6 * 3),
      out('e', 3 * 6 * 4),
      out('d', 6 * 4),
    ],
    args: (p) => [
      p.x!,
      5,
      6,
      3,
      0,
      5,
      6,
      0,
      0,
      10,
      1,
      1,
      1,
      1,
      1,
      1,
      p.y!,
      5,
      6,
      3,
      p.w!,
      p.x!,
      -Infinity,
      Infinity,
      p.e!,
      p.d!,
      4,
      3,
      1,
      1,
      3,
      4,
      4 * 6 * 3 * 4,
      2,
      2 * 6 * 3 * 4,
      0,
    ],
  },
  // The stem, persistent expanded ring (one group), rows 1..2 of 3, the input a ring of 5 rows + 2 mirror rows.
  {
    name: 'f32_block_fused',
    label: 'row-streamed stem 9x7x3→6→5 s2 g6 persist rows 1..2',
    ops: [
      f('x', rand(7 * 7 * 3, 41)),
      f('w', fusedWeights(3, 6, 5, true, 6, 42)),
      out('y', 3 * 2 * 5),
      out('e', 3 * 4 * 6),
      out('d', 2 * 6),
    ],
    args: (p) => [
      p.x!,
      9,
      7,
      3,
      1,
      5,
      4,
      1,
      1,
      6,
      2,
      2,
      1,
      1,
      1,
      0,
      p.y!,
      3,
      2,
      5,
      p.w!,
      0,
      0,
      6,
      p.e!,
      p.d!,
      6,
      3,
      1,
      1,
      3,
      5,
      7 * 7 * 3 * 4,
      0,
      3 * 2 * 5 * 4,
      1,
    ],
  },
  {
    name: 'f32_channel_sums',
    label: 'P=5 C=11 accumulating',
    ops: [f('x', rand(55, 43)), f('acc', rand(11, 44))],
    args: (p) => [p.x!, 5, 11, p.acc!, 0],
  },
];

const PAGE = 65536;
const memories = new Map<boolean, Kernels>();
async function instance(debug: boolean): Promise<Kernels> {
  let k = memories.get(debug);
  if (!k)
    memories.set(debug, (k = instantiateKernels(await loadKernels({ debug }), new WebAssembly.Memory({ initial: 4 }))));
  return k;
}

/** Place operands from KERNEL_RESERVED_BYTES up with 64-byte painted gaps; `last` (if any) flush at the memory's end. */
function layout(k: Kernels, c: Case, last: number | null): Record<string, number> {
  const mem = k.memory.buffer;
  new Uint32Array(mem, KERNEL_RESERVED_BYTES).fill(CANARY);
  const p: Record<string, number> = {};
  let top = KERNEL_RESERVED_BYTES + 64;
  c.ops.forEach((o, i) => {
    if (i === last) p[o.name] = mem.byteLength - o.bytes;
    else {
      p[o.name] = top;
      top += o.bytes + 64;
    }
    if (o.data) new Float32Array(mem, p[o.name]!, o.data.length).set(o.data);
  });
  if (top > mem.byteLength - PAGE / 2) throw new Error('canary test layout too big');
  return p;
}

function outputs(k: Kernels, c: Case, p: Record<string, number>): number[][] {
  const entry = KERNEL_MANIFEST_BY_NAME.get(c.name)!;
  return entry.ranges(c.args(p)).writes.map((w) => {
    const r: number[] = [];
    for (let i = 0; i < w.rows; i++) r.push(...new Uint8Array(k.memory.buffer, w.start + i * w.stride, w.bytes));
    return r;
  });
}

t.test('every manifest kernel has a canary case', async (t) => {
  // The q8 family has its own byte-operand cases: test/q8/canary.test.ts.
  t.same(
    KERNEL_MANIFEST.map((e) => e.name).filter((n) => !n.startsWith('q8_') && !CASES.some((c) => c.name === n)),
    [],
  );
});

for (const build of BUILDS) {
  t.test(`canary [${build.name}]: nothing outside the output changes; highest byte written is inside it`, async (t) => {
    const k = await instance(build.debug);
    for (const c of CASES) {
      const p = layout(k, c, null);
      const args = c.args(p);
      const { writes } = KERNEL_MANIFEST_BY_NAME.get(c.name)!.ranges(args);
      const before = new Uint8Array(k.memory.buffer).slice();
      (k[c.name] as (...a: number[]) => void)(...args);
      const after = new Uint8Array(k.memory.buffer);
      let outside = -1,
        highest = -1;
      for (let i = KERNEL_RESERVED_BYTES; i < after.length; i++) {
        if (before[i] === after[i]) continue;
        highest = i;
        if (
          !writes.some((w) => {
            const o = i - w.start;
            return o >= 0 && i < rangeEnd(w) && o % w.stride < w.bytes;
          }) &&
          outside < 0
        )
          outside = i;
      }
      t.equal(outside, -1, `${c.name} ${c.label}: no byte changed outside the write ranges`);
      t.ok(
        highest < Math.max(...writes.map(rangeEnd)),
        `${c.name} ${c.label}: highest changed byte ${highest} is inside the output`,
      );
    }
  });

  t.test(`bounds [${build.name}]: each operand flush against the end of memory, no trap, same result`, async (t) => {
    const k = await instance(build.debug);
    for (const c of CASES) {
      const base = layout(k, c, null);
      (k[c.name] as (...a: number[]) => void)(...c.args(base));
      const want = outputs(k, c, base);
      for (let i = 0; i < c.ops.length; i++) {
        const p = layout(k, c, i);
        t.doesNotThrow(
          () => (k[c.name] as (...a: number[]) => void)(...c.args(p)),
          `${c.name} ${c.label}: ${c.ops[i]!.name} at the end of memory`,
        );
        t.same(outputs(k, c, p), want, `${c.name} ${c.label}: same output with ${c.ops[i]!.name} at the end`);
      }
    }
  });
}
