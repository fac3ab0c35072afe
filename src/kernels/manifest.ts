/**
 * Kernel manifest: one entry per exported kernel, with its parameter names and a function
 * that, from the call's arguments, gives the byte ranges the call reads and writes. The
 * executor's debug mode asserts each call stays inside the buffers its plan gave it; the
 * kernel tests use the same entries to check that every byte outside the write ranges is
 * left unchanged.
 */
import type { Kernels } from './loader.js';
import {
  packConvLength,
  packDepthwise3x3Length,
  packFullyConnectedLength,
  packFusedBlockLength,
  packGemm1x1Length,
} from './pack.js';
import { Q8_KERNEL_MANIFEST } from './q8_kernels.js';

/** `rows` spans of `bytes` bytes, `stride` bytes apart, starting at `start` (rows = 1 for a plain span). */
export interface ByteRange {
  /** Parameter the range belongs to (x, w, b, y, res, …). */
  operand: string;
  start: number;
  bytes: number;
  rows: number;
  stride: number;
}

export interface KernelRanges {
  reads: ByteRange[];
  writes: ByteRange[];
}

export type KernelName = Exclude<keyof Kernels, 'memory' | 'debug' | 'kernel_heap_base'>;

export interface KernelEntry {
  name: KernelName;
  params: readonly string[];
  ranges(args: readonly number[]): KernelRanges;
}

const F = 4;

function span(operand: string, start: number, bytes: number): ByteRange {
  return { operand, start, bytes, rows: 1, stride: bytes };
}

/** Last byte (exclusive) a range touches. */
export function rangeEnd(r: ByteRange): number {
  return r.rows <= 0 || r.bytes <= 0 ? r.start : r.start + (r.rows - 1) * r.stride + r.bytes;
}

/** Bind positional arguments to parameter names. */
function named(params: readonly string[], args: readonly number[]): Record<string, number> {
  if (args.length !== params.length)
    throw new Error(`expected ${params.length} arguments (${params.join(', ')}), got ${args.length}`);
  const o: Record<string, number> = {};
  params.forEach((p, i) => (o[p] = args[i]!));
  return o;
}

function entry(
  name: KernelName,
  params: readonly string[],
  f: (a: Record<string, number>) => KernelRanges,
): KernelEntry {
  return {
    name,
    params,
    ranges(args) {
      const r = f(named(params, args));
      // Empty spans (a zero-sized operand) are dropped so that callers need not special-case them.
      return {
        reads: r.reads.filter((s) => s.bytes > 0 && s.rows > 0),
        writes: r.writes.filter((s) => s.bytes > 0 && s.rows > 0),
      };
    },
  };
}

const opt = (cond: number, r: ByteRange): ByteRange[] => (cond ? [r] : []);

export const KERNEL_MANIFEST: readonly KernelEntry[] = [
  entry('f32_gemm_1x1', ['x', 'M', 'K', 'w', 'b', 'y', 'N', 'lo', 'hi', 'res', 'accumulate'], (a) => ({
    reads: [
      span('x', a.x!, a.M! * a.K! * F),
      span('w', a.w!, packGemm1x1Length(a.N!, a.K!) * F),
      ...opt(a.b!, span('b', a.b!, a.N! * F)),
      ...opt(a.res!, span('res', a.res!, a.M! * a.N! * F)),
      ...opt(a.accumulate!, span('y', a.y!, a.M! * a.N! * F)),
    ],
    writes: [span('y', a.y!, a.M! * a.N! * F)],
  })),
  entry(
    'f32_conv3x3_s2',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'OC', 'padTop', 'padLeft', 'w', 'b', 'lo', 'hi'],
    (a) => ({
      reads: [
        span('x', a.x!, a.H! * a.W! * a.C! * F),
        span('w', a.w!, packConvLength(a.OC!, 3, 3, a.C!) * F),
        ...opt(a.b!, span('b', a.b!, a.OC! * F)),
      ],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.OC! * F)],
    }),
  ),
  entry(
    'f32_conv2d_generic',
    [
      'x',
      'H',
      'W',
      'C',
      'y',
      'OH',
      'OW',
      'OC',
      'kh',
      'kw',
      'sh',
      'sw',
      'dh',
      'dw',
      'padTop',
      'padLeft',
      'w',
      'b',
      'lo',
      'hi',
    ],
    (a) => ({
      reads: [
        span('x', a.x!, a.H! * a.W! * a.C! * F),
        span('w', a.w!, packConvLength(a.OC!, a.kh!, a.kw!, a.C!) * F),
        ...opt(a.b!, span('b', a.b!, a.OC! * F)),
      ],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.OC! * F)],
    }),
  ),
  ...(['f32_dwconv3x3_s1', 'f32_dwconv3x3_s2'] as const).map((name) =>
    entry(name, ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'padTop', 'padLeft', 'w', 'b', 'lo', 'hi'], (a) => dwRanges(a)),
  ),
  entry(
    'f32_dwconv3x3_generic',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft', 'w', 'b', 'lo', 'hi'],
    (a) => dwRanges(a),
  ),
  entry('f32_global_avgpool', ['x', 'HW', 'C', 'y'], (a) => ({
    reads: [span('x', a.x!, a.HW! * a.C! * F)],
    writes: [span('y', a.y!, a.C! * F)],
  })),
  entry(
    'f32_avgpool_generic',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'kh', 'kw', 'sh', 'sw', 'padTop', 'padLeft', 'lo', 'hi'],
    (a) => ({
      reads: [span('x', a.x!, a.H! * a.W! * a.C! * F)],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.C! * F)],
    }),
  ),
  entry('f32_fully_connected', ['x', 'K', 'w', 'b', 'y', 'N', 'lo', 'hi'], (a) => ({
    reads: [
      span('x', a.x!, a.K! * F),
      span('w', a.w!, packFullyConnectedLength(a.N!, a.K!) * F),
      ...opt(a.b!, span('b', a.b!, a.N! * F)),
    ],
    writes: [span('y', a.y!, a.N! * F)],
  })),
  entry('f32_add', ['a', 'b', 'y', 'n', 'lo', 'hi'], (a) => ({
    reads: [span('a', a.a!, a.n! * F), span('b', a.b!, a.n! * F)],
    writes: [span('y', a.y!, a.n! * F)],
  })),
  // Softmax keeps exp(x − max) in y before normalizing, so it reads y back.
  entry('f32_softmax', ['x', 'n', 'y', 'beta'], (a) => ({
    reads: [span('x', a.x!, a.n! * F), span('y', a.y!, a.n! * F)],
    writes: [span('y', a.y!, a.n! * F)],
  })),
  entry('f32_resize_bilinear', ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'alignCorners', 'halfPixelCenters'], (a) => ({
    reads: [span('x', a.x!, a.H! * a.W! * a.C! * F)],
    writes: [span('y', a.y!, a.OH! * a.OW! * a.C! * F)],
  })),
  entry('f32_argmax_channels', ['x', 'P', 'C', 'y'], (a) => ({
    reads: [span('x', a.x!, a.P! * a.C! * F)],
    writes: [span('y', a.y!, a.P! * 4)],
  })),
  entry(
    'f32_resize_argmax',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'alignCorners', 'halfPixelCenters', 'outI32'],
    (a) => ({
      reads: [span('x', a.x!, a.H! * a.W! * a.C! * F)],
      writes: [span('y', a.y!, a.OH! * a.OW! * (a.outI32 ? 4 : 1))],
    }),
  ),
  entry('copy_strided', ['src', 'dst', 'rows', 'rowBytes', 'srcStride', 'dstStride'], (a) => ({
    reads: [{ operand: 'src', start: a.src!, bytes: a.rowBytes!, rows: a.rows!, stride: a.srcStride! }],
    writes: [{ operand: 'dst', start: a.dst!, bytes: a.rowBytes!, rows: a.rows!, stride: a.dstStride! }],
  })),
  entry(
    'f32_block_fused',
    [
      'x',
      'H',
      'W',
      'Cin',
      'stem',
      'He',
      'We',
      'ePadTop',
      'ePadLeft',
      'Cexp',
      'sh',
      'sw',
      'dh',
      'dw',
      'dPadTop',
      'dPadLeft',
      'y',
      'OH',
      'OW',
      'Cout',
      'w',
      'res',
      'lo',
      'hi',
      'e',
      'd',
      'g',
      'ringRows',
      'bandRows',
    ],
    (a) => fusedRanges(a),
  ),
  entry(
    'f32_block_rows',
    [
      'x',
      'H',
      'W',
      'Cin',
      'stem',
      'He',
      'We',
      'ePadTop',
      'ePadLeft',
      'Cexp',
      'sh',
      'sw',
      'dh',
      'dw',
      'dPadTop',
      'dPadLeft',
      'y',
      'OH',
      'OW',
      'Cout',
      'w',
      'res',
      'lo',
      'hi',
      'e',
      'd',
      'g',
      'ringRows',
      'bandRows',
      'r0',
      'r1',
      'xRows',
      'xBytes',
      'yRows',
      'yBytes',
      'persist',
    ],
    (a) => {
      // x and y whole rings (or tensors); e and d the schedule's ring and band, as f32_block_fused.
      const f = fusedRanges(a);
      const y = span('y', a.y!, a.yBytes!);
      return {
        reads: [
          span('x', a.x!, a.xBytes!),
          ...f.reads.filter((r) => r.operand === 'w' || r.operand === 'e' || r.operand === 'd'),
          ...opt(a.res!, span('res', a.res!, a.xBytes!)),
          ...(a.g! < a.Cexp! ? [y] : []),
        ],
        writes: [y, ...f.writes.filter((r) => r.operand !== 'y')],
      };
    },
  ),
  entry('f32_channel_sums', ['x', 'P', 'C', 'acc', 'first'], (a) => ({
    reads: [span('x', a.x!, a.P! * a.C! * F), ...opt(a.first! ? 0 : 1, span('acc', a.acc!, a.C! * F))],
    writes: [span('acc', a.acc!, a.C! * F)],
  })),
  ...Q8_KERNEL_MANIFEST,
];

/** Depthwise: border pixels accumulate in their own output, so y is read as well as written. */
function dwRanges(a: Record<string, number>): KernelRanges {
  const y = span('y', a.y!, a.OH! * a.OW! * a.C! * F);
  return {
    reads: [
      span('x', a.x!, a.H! * a.W! * a.C! * F),
      span('w', a.w!, packDepthwise3x3Length(a.C!) * F),
      ...opt(a.b!, span('b', a.b!, a.C! * F)),
      y,
    ],
    writes: [y],
  };
}

/**
 * Fused block: the scratch is only the part of e and d the schedule uses (a ring of
 * min(ringRows, He) expanded rows and a band of bandRows depthwise rows, g channels each);
 * both are read back. y is read when more than one group accumulates into it.
 */
function fusedRanges(a: Record<string, number>): KernelRanges {
  const y = span('y', a.y!, a.OH! * a.OW! * a.Cout! * F);
  const e = span('e', a.e!, Math.min(a.ringRows!, a.He!) * a.We! * a.g! * F);
  const d = span('d', a.d!, a.bandRows! * a.OW! * a.g! * F);
  const kExp = a.stem ? 9 * a.Cin! : a.Cin!;
  return {
    reads: [
      span('x', a.x!, a.H! * a.W! * a.Cin! * F),
      span('w', a.w!, packFusedBlockLength(kExp, a.Cexp!, a.Cout!, a.g!) * F),
      ...opt(a.res!, span('res', a.res!, a.OH! * a.OW! * a.Cout! * F)),
      ...(a.g! < a.Cexp! ? [y] : []),
      e,
      d,
    ],
    writes: [y, e, d],
  };
}

export const KERNEL_MANIFEST_BY_NAME: ReadonlyMap<KernelName, KernelEntry> = new Map(
  KERNEL_MANIFEST.map((e) => [e.name, e]),
);

/**
 * Wrap every manifest kernel so that `check(name, ranges, args)` runs before the call
 * (it throws to refuse the call). For debug modes and tests; adds a closure call per op.
 */
export function withRangeChecks(
  k: Kernels,
  check: (name: KernelName, ranges: KernelRanges, args: readonly number[]) => void,
): Kernels {
  const wrapped: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(k)) wrapped[key] = (k as unknown as Record<string, unknown>)[key];
  for (const e of KERNEL_MANIFEST) {
    const fn = k[e.name] as (...a: number[]) => void;
    wrapped[e.name] = (...args: number[]) => {
      check(e.name, e.ranges(args), args);
      fn(...args);
    };
  }
  return wrapped as unknown as Kernels;
}
