// Memory safety of every q8 kernel, on both builds (the same two checks as
// test/kernels/canary.test.ts does for the f32 family, on byte operands):
//  1. canary: memory around and between the operands is painted; after the call no byte
//     outside the manifest's write ranges has changed;
//  2. bounds: each operand in turn is placed flush against the end of the WebAssembly
//     memory, so reading one byte past it traps; the result must not change.
// q8_block's cases lay a block out as the lowering does (descriptor from the generated
// struct writer); test/q8/executor.test.ts (strayWrites) also checks it inside executor steps.
import t from 'tap';
import { instantiateKernels, KERNEL_RESERVED_BYTES, type Kernels } from '../../src/kernels/loader.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { KERNEL_MANIFEST, KERNEL_MANIFEST_BY_NAME, rangeEnd, type KernelName } from '../../src/kernels/manifest.js';
import {
  foldQ8Bias,
  foldQ8DepthwiseBias,
  packQ8Conv,
  packQ8Depthwise,
  packQ8Gemm,
  padQ8DepthwiseScales,
  padQ8Scales,
  q8DepthwisePairBytes,
  q8OutputParams,
} from '../../src/kernels/q8_pack.js';
import { encodeQ8BlockDesc, q8BlockDescBytes, type Q8TileFields } from '../../src/kernels/gen/abi.js';
import { packQ8GemmLength } from '../../src/kernels/schema/layouts.js';
import { addParams } from '../../src/reference/q8_ops.js';
import { BUILDS } from '../kernels/harness.js';
import { qArray, spreadScales } from './helpers.js';

interface Operand {
  name: string;
  data?: ArrayBufferView;
  bytes: number;
}
interface Case {
  name: KernelName;
  label: string;
  ops: Operand[];
  args(p: Record<string, number>): number[];
}

const d = (name: string, data: ArrayBufferView): Operand => ({ name, data, bytes: data.byteLength });
const out = (name: string, bytes: number): Operand => ({ name, bytes });
const u8 = (n: number, seed: number) => qArray('u8', n, seed);
const i8 = (n: number, seed: number) => qArray('i8', n, seed);
const res = () => addParams(0.05, 0.03, 0.06);

// Odd sizes: channel tails, rows not a multiple of 4, K not a multiple of 8 or 2.
const CASES: Case[] = [];
for (const [sg, q] of [
  [0, u8],
  [1, i8],
] as const) {
  const tag = sg ? 'i8' : 'u8';
  // Weight zero points as the kernels take them: one nonzero zero point for uint8, 0 for int8.
  const zw = (z: number) => (sg ? [0] : [z]);
  const kz = (z: number) => (sg ? 0 : z);
  const w = q(11 * 13, 2);
  CASES.push(
    {
      name: 'q8_gemm',
      label: `${tag} M=7 K=13 N=11 residual, strided`,
      ops: [
        d('x', q(7 * 15, 1)),
        d('w', packQ8Gemm(w, 11, 13, zw(3))),
        d('b', foldQ8Bias(null, w, 11, 13, zw(3), 5)),
        d('s', padQ8Scales(spreadScales(11, 13, 3), 11)),
        d(
          'rq',
          q8OutputParams(
            2,
            -5 + sg * 0,
            100,
            {
              zRes: 4,
              mP: res().ma,
              mRes: res().mb,
              shift: res().shift,
              zY: 1,
              loY: 0,
              hiY: 90,
            },
            kz(3),
          ),
        ),
        d('res', q(7 * 12, 4)),
        out('y', 6 * 14 + 11),
      ],
      args: (p) => [p.x!, 7, 13, 15, p.w!, 11, p.b!, p.s!, p.y!, 14, p.rq!, p.res!, 12, sg],
    },
    {
      name: 'q8_gemm_acc',
      label: `${tag} M=5 K=9 N=3`,
      ops: [
        d('x', q(45, 5)),
        d('w', packQ8Gemm(q(27, 6), 3, 9, zw(200))),
        d('b', foldQ8Bias(null, q(27, 6), 3, 9, zw(200), 1)),
        d('acc', new Int32Array(15)),
      ],
      args: (p) => [p.x!, 5, 9, 9, p.w!, 5 * 16, 3, p.b!, p.acc!, 12, 1, kz(200), sg],
    },
    {
      name: 'q8_requant_acc',
      label: `${tag} M=3 N=13`,
      ops: [
        d(
          'acc',
          Int32Array.from({ length: 39 }, (_, i) => i * 997 - 20000),
        ),
        d('s', padQ8Scales(spreadScales(13, 50, 7), 13)),
        d('rq', q8OutputParams(3, -100, 100)),
        out('y', 39),
      ],
      args: (p) => [p.acc!, 3, 13, 52, p.s!, p.y!, 13, p.rq!, 0, 0, sg],
    },
    {
      name: 'q8_conv2d',
      label: `${tag} 9x7x3→13 SAME s2`,
      ops: [
        d('x', q(9 * 7 * 3, 8)),
        d('w', packQ8Conv(q(13 * 27, 9), 13, 3, 3, 3, zw(7))),
        d('b', foldQ8Bias(null, q(13 * 27, 9), 13, 27, zw(7), 2)),
        d('s', padQ8Scales(spreadScales(13, 27, 10), 13)),
        d('rq', q8OutputParams(0, 0, 100, undefined, kz(7))),
        out('y', 5 * 4 * 13),
      ],
      args: (p) => [p.x!, 9, 7, 3, p.y!, 5, 4, 13, 3, 3, 2, 2, 1, 1, 1, 1, p.w!, p.b!, p.s!, p.rq!, 2, sg],
    },
    {
      name: 'q8_dwconv3x3',
      label: `${tag} 5x6x21 SAME`,
      ops: [
        d('x', q(5 * 6 * 21, 11)),
        d('w', packQ8Depthwise(q(9 * 21, 12), 21, zw(1))),
        d('b', foldQ8DepthwiseBias(null, q(9 * 21, 12), 21, zw(1), 3)),
        d('s', padQ8DepthwiseScales(spreadScales(21, 9, 13), 21)),
        d('rq', q8OutputParams(0, 0, 90, undefined, kz(1))),
        out('y', 5 * 6 * 21),
      ],
      args: (p) => [
        p.x!,
        5,
        6,
        21,
        p.y!,
        5,
        6,
        1,
        1,
        1,
        1,
        1,
        1,
        p.w!,
        q8DepthwisePairBytes(21),
        p.b!,
        p.s!,
        p.rq!,
        3,
        sg,
      ],
    },
    {
      name: 'q8_dwconv3x3',
      label: `${tag} 7x5x5 s2`,
      ops: [
        d('x', q(7 * 5 * 5, 14)),
        d('w', packQ8Depthwise(q(45, 15), 5, zw(1))),
        d('b', foldQ8DepthwiseBias(null, q(45, 15), 5, zw(1), 3)),
        d('s', padQ8DepthwiseScales(spreadScales(5, 9, 16), 5)),
        d('rq', q8OutputParams(0, 0, 90, undefined, kz(1))),
        out('y', 4 * 3 * 5),
      ],
      args: (p) => [
        p.x!,
        7,
        5,
        5,
        p.y!,
        4,
        3,
        2,
        2,
        1,
        1,
        1,
        1,
        p.w!,
        q8DepthwisePairBytes(5),
        p.b!,
        p.s!,
        p.rq!,
        3,
        sg,
      ],
    },
    {
      name: 'q8_add',
      label: `${tag} n=23`,
      ops: [d('a', q(23, 17)), d('b', q(23, 18)), out('y', 23)],
      args: (p) => [p.a!, p.b!, p.y!, 23, 3, -4, res().ma, res().mb, res().shift, 2, -100, 100, sg],
    },
    {
      name: 'q8_global_avgpool',
      label: `${tag} HW=5 C=11`,
      ops: [d('x', q(55, 19)), out('y', 11)],
      args: (p) => [p.x!, 5, 11, p.y!, -128 * sg, 255 - 128 * sg, sg],
    },
    {
      name: 'q8_avgpool',
      label: `${tag} 7x6x11 k3 s2 SAME`,
      ops: [d('x', q(7 * 6 * 11, 23)), out('y', 4 * 3 * 11)],
      args: (p) => [p.x!, 7, 6, 11, p.y!, 4, 3, 3, 3, 2, 2, 1, 0, -128 * sg, 255 - 128 * sg, sg],
    },
    {
      name: 'q8_mean',
      label: `${tag} HW=5 C=11`,
      ops: [d('x', q(55, 20)), out('y', 11)],
      args: (p) => [p.x!, 5, 11, p.y!, 3, 0.01, 1, -128 * sg, 255 - 128 * sg, sg],
    },
    {
      name: 'q8_softmax',
      label: `${tag} n=13`,
      ops: [d('x', q(13, 21)), out('y', 13)],
      args: (p) => [p.x!, 13, p.y!, -0.1, 1 / 256, -128 * sg, sg],
    },
    {
      name: 'q8_requantize',
      label: `${tag}→u8 n=13`,
      ops: [d('x', q(13, 22)), out('y', 13)],
      args: (p) => [p.x!, 13, p.y!, 1, 0.7, 128, sg, 0],
    },
    {
      name: 'q8_convert',
      label: `${tag} n=13`,
      ops: [d('x', q(13, 24)), out('y', 13)],
      args: (p) => [p.x!, 13, p.y!, 1, 90, 3, sg],
    },
    {
      name: 'q8_resize_bilinear',
      label: `${tag} 3x4x11→7x9 align`,
      ops: [d('x', q(3 * 4 * 11, 25)), out('y', 7 * 9 * 11)],
      args: (p) => [p.x!, 3, 4, 11, p.y!, 7, 9, 1, 0, sg],
    },
    {
      name: 'q8_resize_bilinear',
      label: `${tag} 5x3x5→4x7 half-pixel`,
      ops: [d('x', q(5 * 3 * 5, 26)), out('y', 4 * 7 * 5)],
      args: (p) => [p.x!, 5, 3, 5, p.y!, 4, 7, 0, 1, sg],
    },
    {
      name: 'q8_resize_argmax',
      label: `${tag} 3x4x21→7x9 u8 ids`,
      ops: [d('x', q(3 * 4 * 21, 27)), out('y', 7 * 9)],
      args: (p) => [p.x!, 3, 4, 21, p.y!, 7, 9, 1, 0, 0, sg],
    },
    {
      name: 'q8_resize_argmax',
      label: `${tag} 4x3x5→5x7 i32 ids`,
      ops: [d('x', q(4 * 3 * 5, 28)), out('y', 5 * 7 * 4)],
      args: (p) => [p.x!, 4, 3, 5, p.y!, 5, 7, 0, 1, 1, sg],
    },
    {
      name: 'q8_argmax',
      label: `${tag} P=6 C=7 i64 ids`,
      ops: [d('x', q(42, 29)), out('y', 6 * 8)],
      args: (p) => [p.x!, 6, 7, p.y!, 8, sg],
    },
    {
      name: 'q8_argmax',
      label: `${tag} P=5 C=3 u8 ids`,
      ops: [d('x', q(15, 30)), out('y', 5)],
      args: (p) => [p.x!, 5, 3, p.y!, 1, sg],
    },
  );
}

/**
 * A fused block (5x5x5 → 16 inner channels → 5, 1x1 expansion, depthwise stride 1 SAME,
 * residual) laid out as the lowering lays it out: its packed pieces in one weights image at
 * 16-byte aligned offsets, and a descriptor written by the generated struct writer. Tiles:
 * one tile of one group straight into y, or two groups accumulating in E after the window.
 */
function blockCase(
  sg: 0 | 1,
  tiles: Q8TileFields[],
  eBytes: number,
  dBytes: number,
  label: string,
  streamed?: { r0: number; r1: number; xRows: number; yRows: number; persist: 0 | 1 },
): Case {
  const q = (n: number, seed: number) => qArray(sg ? 'i8' : 'u8', n, seed);
  const zw = (z: number) => (sg ? [0] : [z]);
  const kz = (z: number) => (sg ? 0 : z);
  const [H, W, Cin, Cexp, Cout] = [5, 5, 5, 16, 5];
  const wE = q(Cexp * Cin, 41),
    wD = q(9 * Cexp, 42),
    wP = q(Cout * Cexp, 43);
  const pieces: ArrayBufferView[] = [];
  let end = 0;
  const add = (v: ArrayBufferView) => {
    const at = end;
    pieces.push(v);
    end += Math.ceil(v.byteLength / 16) * 16;
    return at;
  };
  const r = addParams(0.05, 0.03, 0.06);
  const wExp = add(packQ8Gemm(wE, Cexp, Cin, zw(2)));
  const fields = {
    signed: sg,
    expKind: 0,
    hx: H,
    wx: W,
    cin: Cin,
    he: H,
    we: W,
    cexp: Cexp,
    hd: H,
    wd: W,
    cout: Cout,
    ekh: 1,
    ekw: 1,
    esh: 1,
    esw: 1,
    edh: 1,
    edw: 1,
    ept: 0,
    epl: 0,
    dsh: 1,
    dsw: 1,
    ddh: 1,
    ddw: 1,
    dpt: 1,
    dpl: 1,
    zx: 3,
    ze: 4,
    wExp,
    bExp: add(foldQ8Bias(null, wE, Cexp, Cin, zw(2), 3)),
    sExp: add(padQ8Scales(spreadScales(Cexp, Cin, 44), Cexp)),
    rqExp: add(q8OutputParams(4, 0, 100, undefined, kz(2))),
    wDw: add(packQ8Depthwise(wD, Cexp, zw(1))),
    wsDw: q8DepthwisePairBytes(Cexp),
    bDw: add(foldQ8DepthwiseBias(null, wD, Cexp, zw(1), 4)),
    sDw: add(padQ8DepthwiseScales(spreadScales(Cexp, 9, 45), Cexp)),
    rqDw: add(q8OutputParams(5, 0, 90, undefined, kz(1))),
    wProj: add(packQ8Gemm(wP, Cout, Cexp, zw(6))),
    psProj: packQ8GemmLength(8, Cexp),
    bProj: add(foldQ8Bias(null, wP, Cout, Cexp, zw(6), 5)),
    sProj: add(padQ8Scales(spreadScales(Cout, Cexp, 46), Cout)),
    rqProj: add(
      q8OutputParams(2, -100, 100, { zRes: 3, mP: r.ma, mRes: r.mb, shift: r.shift, zY: 1, loY: 0, hiY: 90 }, kz(6)),
    ),
    unit: 8,
    uExp: packQ8GemmLength(8, Cin),
    uProj: packQ8GemmLength(8, 8),
    persist: streamed?.persist ?? 0,
    tiles,
  };
  const image = new Uint8Array(end);
  let at = 0;
  for (const v of pieces) {
    image.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    at += Math.ceil(v.byteLength / 16) * 16;
  }
  const desc = encodeQ8BlockDesc(fields);
  return {
    name: 'q8_block',
    label: `${sg ? 'i8' : 'u8'} ${label}`,
    ops: [
      d('desc', desc),
      d('w', image),
      d('x', q((streamed?.xRows || H) * W * Cin, 47)),
      out('y', (streamed?.yRows || H) * W * Cout),
      out('e', eBytes),
      out('d', dBytes),
    ],
    args: (p) => [
      p.desc!,
      q8BlockDescBytes(tiles.length),
      p.w!,
      image.byteLength,
      p.x!,
      (streamed?.xRows || H) * W * Cin,
      p.y!,
      (streamed?.yRows || H) * W * Cout,
      p.e!,
      eBytes,
      p.d!,
      dBytes,
      ...(streamed ? [streamed.r0, streamed.r1, streamed.xRows, streamed.yRows] : []),
    ],
  };
}

const whole = { r0: 0, r1: 5, q0: 0, q1: 5, n0: 0, n1: 5 };
for (const sg of [0, 1] as const) {
  CASES.push(
    blockCase(sg, [{ ...whole, G: 16, acc: 0, accOffset: 0 }], 5 * 5 * 16, 25 * 16, 'one tile, one group into y'),
    blockCase(
      sg,
      [
        { ...whole, r1: 3, G: 8, acc: 1, accOffset: 5 * 5 * 8 },
        { ...whole, r0: 3, G: 8, acc: 1, accOffset: 5 * 5 * 8 },
      ],
      5 * 5 * 8 + 15 * 5 * 4,
      15 * 8,
      'two row tiles, two groups accumulating in E',
    ),
    // Row-streamed: rows 1..2 (one band of 2 rows), x a ring of 4 rows (the residual reads it), y a ring of 3.
    blockCase(
      sg,
      [{ r0: 0, r1: 2, q0: 0, q1: 5, n0: 0, n1: 5, G: 8, acc: 1, accOffset: 4 * 5 * 8 }],
      4 * 5 * 8 + 10 * 5 * 4,
      10 * 8,
      'rows 1..2, two groups, rings x4 y3',
      { r0: 1, r1: 3, xRows: 4, yRows: 3, persist: 0 },
    ),
    // Row-streamed 'ring' block: the expanded rows persist in E (a window of 4 rows, every channel).
    blockCase(
      sg,
      [{ r0: 0, r1: 2, q0: 0, q1: 5, n0: 0, n1: 5, G: 16, acc: 0, accOffset: 0 }],
      4 * 5 * 16,
      10 * 16,
      'rows 2..3, expanded rows kept in E, rings x4 y2',
      { r0: 2, r1: 4, xRows: 4, yRows: 2, persist: 1 },
    ),
  );
  CASES.push({
    name: 'q8_channel_sums',
    label: `${sg ? 'i8' : 'u8'} P=5 C=11 accumulating`,
    ops: [
      d('x', qArray(sg ? 'i8' : 'u8', 55, 31)),
      d(
        'acc',
        Int32Array.from({ length: 11 }, (_, i) => i * 1000 - 5000),
      ),
    ],
    args: (p) => [p.x!, 5, 11, p.acc!, 0, sg],
  });
}

t.test('every q8 kernel of the manifest has a case', async (t) => {
  t.same(
    KERNEL_MANIFEST.map((e) => e.name).filter((n) => n.startsWith('q8_') && !CASES.some((c) => c.name === n)),
    [],
  );
});

const instances = new Map<boolean, Kernels>();
async function instance(debug: boolean): Promise<Kernels> {
  let k = instances.get(debug);
  if (!k)
    instances.set(
      debug,
      (k = instantiateKernels(await loadKernels({ debug }), new WebAssembly.Memory({ initial: 2 }))),
    );
  return k;
}

function layout(k: Kernels, c: Case, last: number | null): Record<string, number> {
  const mem = new Uint8Array(k.memory.buffer);
  mem.fill(0xa7, KERNEL_RESERVED_BYTES);
  const p: Record<string, number> = {};
  let top = KERNEL_RESERVED_BYTES + 64;
  c.ops.forEach((o, i) => {
    if (i === last) p[o.name] = mem.length - o.bytes;
    else {
      p[o.name] = top;
      top += o.bytes + 61;
    } // odd gaps: operands at unaligned addresses too
    if (o.data) mem.set(new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength), p[o.name]!);
  });
  if (top > mem.length / 2) throw new Error('canary layout too big');
  return p;
}

function outputs(k: Kernels, c: Case, p: Record<string, number>): number[][] {
  return KERNEL_MANIFEST_BY_NAME.get(c.name)!
    .ranges(c.args(p))
    .writes.map((w) => {
      const r: number[] = [];
      for (let i = 0; i < w.rows; i++) r.push(...new Uint8Array(k.memory.buffer, w.start + i * w.stride, w.bytes));
      return r;
    });
}

for (const build of BUILDS) {
  t.test(`q8 canary [${build.name}]: nothing outside the write ranges changes`, async (t) => {
    const k = await instance(build.debug);
    for (const c of CASES) {
      const p = layout(k, c, null);
      const args = c.args(p);
      const { writes } = KERNEL_MANIFEST_BY_NAME.get(c.name)!.ranges(args);
      const before = new Uint8Array(k.memory.buffer).slice();
      (k[c.name] as (...a: number[]) => void)(...args);
      const after = new Uint8Array(k.memory.buffer);
      let outside = -1;
      for (let i = KERNEL_RESERVED_BYTES; i < after.length && outside < 0; i++) {
        if (before[i] === after[i]) continue;
        if (
          !writes.some((w) => {
            const o = i - w.start;
            return o >= 0 && i < rangeEnd(w) && o % w.stride < w.bytes;
          })
        )
          outside = i;
      }
      t.equal(outside, -1, `${c.name} ${c.label}: no byte changed outside the write ranges`);
    }
  });

  t.test(`q8 bounds [${build.name}]: each operand flush against the end of memory, no trap, same result`, async (t) => {
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
