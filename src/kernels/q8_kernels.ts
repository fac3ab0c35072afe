/**
 * The q8 (uint8 / int8) kernels of the WASM module (assembly/q8_exports.ts): their
 * signatures, and their range-manifest entries (what each call reads and writes, for the
 * executor's debug guard and the kernel tests). Weight layouts: src/kernels/q8_pack.ts.
 * `sg`: 0 = uint8 activations, 1 = int8.
 */
import type { ByteRange, KernelEntry, KernelName, KernelRanges } from './manifest.js';
import { packQ8ConvLength, packQ8GemmLength, q8DepthwiseStride, Q8_NR, Q8_RQ_BYTES } from './q8_pack.js';

type Ptr = number;

export interface Q8Kernels {
  /** y[m][n] = requantize(b'[n] + Σ_k x[m][k]·w'[n][k]) (+ residual ADD when rq[3] = 1); strides in bytes. */
  q8_gemm(
    x: Ptr,
    M: number,
    K: number,
    xs: number,
    w: Ptr,
    N: number,
    b: Ptr,
    s: Ptr,
    y: Ptr,
    ys: number,
    rq: Ptr,
    res: Ptr,
    rs: number,
    sg: number,
  ): void;
  /** acc[m][n] (+)= Σ_k x[m][k]·w'[n][k] in int32; init = 1 starts from b'; panels ps bytes apart; zw: uint8 weights' zero point. */
  q8_gemm_acc(
    x: Ptr,
    M: number,
    K: number,
    xs: number,
    w: Ptr,
    ps: number,
    N: number,
    b: Ptr,
    acc: Ptr,
    as: number,
    init: number,
    zw: number,
    sg: number,
  ): void;
  /** y[m][n] = requantize(acc[m][n]) (+ residual ADD). */
  q8_requant_acc(
    acc: Ptr,
    M: number,
    N: number,
    as: number,
    s: Ptr,
    y: Ptr,
    ys: number,
    rq: Ptr,
    res: Ptr,
    rs: number,
    sg: number,
  ): void;
  q8_conv2d(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    OC: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    s: Ptr,
    rq: Ptr,
    zx: number,
    sg: number,
  ): void;
  q8_dwconv3x3(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    ws: number,
    b: Ptr,
    s: Ptr,
    rq: Ptr,
    zx: number,
    sg: number,
  ): void;
  q8_add(
    a: Ptr,
    b: Ptr,
    y: Ptr,
    n: number,
    za: number,
    zb: number,
    ma: number,
    mb: number,
    shift: number,
    zy: number,
    lo: number,
    hi: number,
    sg: number,
  ): void;
  q8_global_avgpool(x: Ptr, HW: number, C: number, y: Ptr, lo: number, hi: number, sg: number): void;
  /** Windowed average pool on one grid (padding not counted), clamped to [lo, hi]. */
  q8_avgpool(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    padTop: number,
    padLeft: number,
    lo: number,
    hi: number,
    sg: number,
  ): void;
  q8_mean(
    x: Ptr,
    HW: number,
    C: number,
    y: Ptr,
    zx: number,
    s: number,
    zy: number,
    lo: number,
    hi: number,
    sg: number,
  ): void;
  q8_softmax(x: Ptr, n: number, y: Ptr, k: number, sOut: number, zy: number, sg: number): void;
  q8_requantize(x: Ptr, n: number, y: Ptr, zx: number, m: number, zy: number, sgIn: number, sgOut: number): void;
  /** QUANTIZE within one type (XNNPACK's convert): y = sat(((x − zx)·m + 128) >> 8 + zy), m = lrintf(256·s_in/s_out). */
  q8_convert(x: Ptr, n: number, y: Ptr, zx: number, m: number, zy: number, sg: number): void;
  /** RESIZE_BILINEAR (same quantization in and out): XNNPACK's 11-bit interpolation. */
  q8_resize_bilinear(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    alignCorners: number,
    halfPixelCenters: number,
    sg: number,
  ): void;
  /** Fused RESIZE_BILINEAR + ARG_MAX over channels: class ids (u8, or i32 when outI32) of the resized bytes. */
  q8_resize_argmax(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    alignCorners: number,
    halfPixelCenters: number,
    outI32: number,
    sg: number,
  ): void;
  /** ARG_MAX over the last axis: P rows of C bytes → class ids of outBytes (1, 4 or 8) bytes. */
  q8_argmax(x: Ptr, P: number, C: number, y: Ptr, outBytes: number, sg: number): void;
  q8_block(
    desc: Ptr,
    descBytes: number,
    wb: Ptr,
    wBytes: number,
    x: Ptr,
    xBytes: number,
    y: Ptr,
    yBytes: number,
    e: Ptr,
    eBytes: number,
    d: Ptr,
    dBytes: number,
  ): void;
  /**
   * Output rows [r0, r1) of a fused block, row-streamed (q8_block.ts): the descriptor's tiles
   * cover one band counted from r0; x and y are rings of xRows and yRows rows (0: whole
   * tensors), xBytes and yBytes long.
   */
  q8_block_rows(
    desc: Ptr,
    descBytes: number,
    wb: Ptr,
    wBytes: number,
    x: Ptr,
    xBytes: number,
    xRows: number,
    y: Ptr,
    yBytes: number,
    yRows: number,
    e: Ptr,
    eBytes: number,
    d: Ptr,
    dBytes: number,
    r0: number,
    r1: number,
  ): void;
  /** acc[c] (int32) = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c] (a global pool's sums, a few pixels at a time). */
  q8_channel_sums(x: Ptr, P: number, C: number, acc: Ptr, first: number, sg: number): void;
}

const span = (operand: string, start: number, bytes: number): ByteRange => ({
  operand,
  start,
  bytes,
  rows: 1,
  stride: bytes,
});
const rows = (operand: string, start: number, bytes: number, n: number, stride: number): ByteRange => ({
  operand,
  start,
  bytes,
  rows: n,
  stride,
});
const opt = (cond: number, r: ByteRange): ByteRange[] => (cond ? [r] : []);
const panels = (n: number) => Math.ceil(n / Q8_NR) * Q8_NR;

function entry(
  name: KernelName,
  params: readonly string[],
  f: (a: Record<string, number>) => KernelRanges,
): KernelEntry {
  return {
    name,
    params,
    ranges(args) {
      if (args.length !== params.length)
        throw new Error(`${name}: expected ${params.length} arguments (${params.join(', ')}), got ${args.length}`);
      const a: Record<string, number> = {};
      params.forEach((p, i) => (a[p] = args[i]!));
      const r = f(a);
      return {
        reads: r.reads.filter((s) => s.bytes > 0 && s.rows > 0),
        writes: r.writes.filter((s) => s.bytes > 0 && s.rows > 0),
      };
    },
  };
}

const perChannel = (operand: string, p: number, n: number) => span(operand, p, panels(n) * 4);

export const Q8_KERNEL_MANIFEST: readonly KernelEntry[] = [
  entry('q8_gemm', ['x', 'M', 'K', 'xs', 'w', 'N', 'b', 's', 'y', 'ys', 'rq', 'res', 'rs', 'sg'], (a) => ({
    reads: [
      rows('x', a.x!, a.K!, a.M!, a.xs!),
      span('w', a.w!, packQ8GemmLength(a.N!, a.K!)),
      perChannel('b', a.b!, a.N!),
      perChannel('s', a.s!, a.N!),
      span('rq', a.rq!, Q8_RQ_BYTES),
      ...opt(a.res!, rows('res', a.res!, a.N!, a.M!, a.rs!)),
    ],
    writes: [rows('y', a.y!, a.N!, a.M!, a.ys!)],
  })),
  entry('q8_gemm_acc', ['x', 'M', 'K', 'xs', 'w', 'ps', 'N', 'b', 'acc', 'as', 'init', 'zw', 'sg'], (a) => ({
    reads: [
      rows('x', a.x!, a.K!, a.M!, a.xs!),
      rows('w', a.w!, Math.ceil(a.K! / 2) * 16, Math.ceil(a.N! / Q8_NR), a.ps!),
      ...opt(a.init!, perChannel('b', a.b!, a.N!)),
      ...(a.init ? [] : [rows('acc', a.acc!, a.N! * 4, a.M!, a.as!)]),
    ],
    writes: [rows('acc', a.acc!, a.N! * 4, a.M!, a.as!)],
  })),
  entry('q8_requant_acc', ['acc', 'M', 'N', 'as', 's', 'y', 'ys', 'rq', 'res', 'rs', 'sg'], (a) => ({
    reads: [
      rows('acc', a.acc!, a.N! * 4, a.M!, a.as!),
      perChannel('s', a.s!, a.N!),
      span('rq', a.rq!, Q8_RQ_BYTES),
      ...opt(a.res!, rows('res', a.res!, a.N!, a.M!, a.rs!)),
    ],
    writes: [rows('y', a.y!, a.N!, a.M!, a.ys!)],
  })),
  entry(
    'q8_conv2d',
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
      's',
      'rq',
      'zx',
      'sg',
    ],
    (a) => ({
      reads: [
        span('x', a.x!, a.H! * a.W! * a.C!),
        span('w', a.w!, packQ8ConvLength(a.OC!, a.kh!, a.kw!, a.C!, a.dw!)),
        perChannel('b', a.b!, a.OC!),
        perChannel('s', a.s!, a.OC!),
        span('rq', a.rq!, Q8_RQ_BYTES),
      ],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.OC!)],
    }),
  ),
  entry(
    'q8_dwconv3x3',
    [
      'x',
      'H',
      'W',
      'C',
      'y',
      'OH',
      'OW',
      'sh',
      'sw',
      'dh',
      'dw',
      'padTop',
      'padLeft',
      'w',
      'ws',
      'b',
      's',
      'rq',
      'zx',
      'sg',
    ],
    (a) => ({
      reads: [
        span('x', a.x!, a.H! * a.W! * a.C!),
        rows('w', a.w!, Math.ceil(a.C! / 16) * 32, 5, a.ws!),
        span('b', a.b!, q8DepthwiseStride(a.C!) * 4),
        span('s', a.s!, q8DepthwiseStride(a.C!) * 4),
        span('rq', a.rq!, Q8_RQ_BYTES),
      ],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.C!)],
    }),
  ),
  entry('q8_add', ['a', 'b', 'y', 'n', 'za', 'zb', 'ma', 'mb', 'shift', 'zy', 'lo', 'hi', 'sg'], (a) => ({
    reads: [span('a', a.a!, a.n!), span('b', a.b!, a.n!)],
    writes: [span('y', a.y!, a.n!)],
  })),
  entry('q8_global_avgpool', ['x', 'HW', 'C', 'y', 'lo', 'hi', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.HW! * a.C!)],
    writes: [span('y', a.y!, a.C!)],
  })),
  entry(
    'q8_avgpool',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'kh', 'kw', 'sh', 'sw', 'padTop', 'padLeft', 'lo', 'hi', 'sg'],
    (a) => ({
      reads: [span('x', a.x!, a.H! * a.W! * a.C!)],
      writes: [span('y', a.y!, a.OH! * a.OW! * a.C!)],
    }),
  ),
  entry('q8_mean', ['x', 'HW', 'C', 'y', 'zx', 's', 'zy', 'lo', 'hi', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.HW! * a.C!)],
    writes: [span('y', a.y!, a.C!)],
  })),
  entry('q8_softmax', ['x', 'n', 'y', 'k', 'sOut', 'zy', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.n!)],
    writes: [span('y', a.y!, a.n!)],
  })),
  entry('q8_requantize', ['x', 'n', 'y', 'zx', 'm', 'zy', 'sgIn', 'sgOut'], (a) => ({
    reads: [span('x', a.x!, a.n!)],
    writes: [span('y', a.y!, a.n!)],
  })),
  entry('q8_convert', ['x', 'n', 'y', 'zx', 'm', 'zy', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.n!)],
    writes: [span('y', a.y!, a.n!)],
  })),
  entry('q8_resize_bilinear', ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'alignCorners', 'halfPixelCenters', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.H! * a.W! * a.C!)],
    writes: [span('y', a.y!, a.OH! * a.OW! * a.C!)],
  })),
  entry(
    'q8_resize_argmax',
    ['x', 'H', 'W', 'C', 'y', 'OH', 'OW', 'alignCorners', 'halfPixelCenters', 'outI32', 'sg'],
    (a) => ({
      reads: [span('x', a.x!, a.H! * a.W! * a.C!)],
      writes: [span('y', a.y!, a.OH! * a.OW! * (a.outI32 ? 4 : 1))],
    }),
  ),
  entry('q8_argmax', ['x', 'P', 'C', 'y', 'outBytes', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.P! * a.C!)],
    writes: [span('y', a.y!, a.P! * a.outBytes!)],
  })),
  // The block's accumulators live in e, d or the unwritten part of y, so y is read too.
  entry(
    'q8_block',
    ['desc', 'descBytes', 'wb', 'wBytes', 'x', 'xBytes', 'y', 'yBytes', 'e', 'eBytes', 'd', 'dBytes'],
    (a) => ({
      reads: [
        span('desc', a.desc!, a.descBytes!),
        span('weights', a.wb!, a.wBytes!),
        span('x', a.x!, a.xBytes!),
        span('y', a.y!, a.yBytes!),
        span('e', a.e!, a.eBytes!),
        span('d', a.d!, a.dBytes!),
      ],
      writes: [span('y', a.y!, a.yBytes!), span('e', a.e!, a.eBytes!), span('d', a.d!, a.dBytes!)],
    }),
  ),
  entry(
    'q8_block_rows',
    [
      'desc',
      'descBytes',
      'wb',
      'wBytes',
      'x',
      'xBytes',
      'xRows',
      'y',
      'yBytes',
      'yRows',
      'e',
      'eBytes',
      'd',
      'dBytes',
      'r0',
      'r1',
    ],
    (a) => ({
      reads: [
        span('desc', a.desc!, a.descBytes!),
        span('weights', a.wb!, a.wBytes!),
        span('x', a.x!, a.xBytes!),
        span('y', a.y!, a.yBytes!),
        span('e', a.e!, a.eBytes!),
        span('d', a.d!, a.dBytes!),
      ],
      writes: [span('y', a.y!, a.yBytes!), span('e', a.e!, a.eBytes!), span('d', a.d!, a.dBytes!)],
    }),
  ),
  entry('q8_channel_sums', ['x', 'P', 'C', 'acc', 'first', 'sg'], (a) => ({
    reads: [span('x', a.x!, a.P! * a.C!), ...opt(a.first! ? 0 : 1, span('acc', a.acc!, a.C! * 4))],
    writes: [span('acc', a.acc!, a.C! * 4)],
  })),
];
