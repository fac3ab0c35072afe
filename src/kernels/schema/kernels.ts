/**
 * The kernel schema: every kernel the WebAssembly module exports, with its typed
 * parameters in call order, its debug-build checks, its body in assembly/, and the bytes
 * a call reads and writes as formulas of its arguments (packed-weight sizes from
 * layouts.ts, struct sizes from structs.ts). The generator (generate.ts, run by `npm run
 * build`) emits the module's export wrappers and, for TypeScript, the positional `Kernels`
 * type, named-argument binders and struct writers; manifest.ts turns the ranges into the
 * range manifest. Adding a parameter is an edit here and in the body.
 *
 * Every pointer is a byte offset into the kernels' memory; an optional operand (bias b,
 * residual res) is 0 when absent. f32 kernels clamp to [lo, hi] (relu6: 0, 6; none:
 * ±Infinity). q8 kernels: `sg` 0 = uint8 activations (TF1 models), 1 = int8 (TF2), for
 * the weights too; weights, folded biases, multipliers and the Q8_RQ block come from
 * src/kernels/q8_pack.ts.
 */
import {
  packConvLength,
  packDepthwise3x3Length,
  packFullyConnectedLength,
  packFusedBlockLength,
  packGemm1x1Length,
  packQ8ConvLength,
  packQ8GemmLength,
  q8ChannelBytes,
  q8DepthwiseRowReadBytes,
  q8DepthwiseStride,
  q8PanelBytes,
  Q8_DW_PAIR_ROWS,
  Q8_NR,
} from './layouts.js';
import { Q8_BLOCK_DESC, Q8_RQ } from './structs.js';
import { kernel, opt, rows, span, type Args, type BodyStruct, type KernelRanges } from './types.js';

const F = 4;
const Q8_ARGS = 'q8 arguments';

/** f32 depthwise: border pixels accumulate in their own output, so y is read as well as written. */
function dwRanges(
  a: Args<{ x: 'ptr'; H: 'i32'; W: 'i32'; C: 'i32'; y: 'ptr'; OH: 'i32'; OW: 'i32'; w: 'ptr'; b: 'ptr' }>,
) {
  const y = span('y', a.y, a.OH * a.OW * a.C * F);
  return {
    reads: [
      span('x', a.x, a.H * a.W * a.C * F),
      span('w', a.w, packDepthwise3x3Length(a.C) * F),
      ...opt(a.b, span('b', a.b, a.C * F)),
      y,
    ],
    writes: [y],
  };
}

const f32Dw3x3 = (doc: string, sh: number) =>
  kernel({
    doc,
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      w: 'ptr',
      b: 'ptr',
      lo: 'f32',
      hi: 'f32',
    },
    checks: [[`H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0`, `f32_dwconv3x3_s${sh}: bad shape`]],
    body: {
      from: 'dwconv',
      fn: 'dwconv3x3',
      struct: 'Dw3x3Args',
      fill: { sh: `${sh}`, sw: `${sh}`, dh: '1', dw: '1' },
    },
    ranges: dwRanges,
  });

/** The q8 per-channel arrays (folded bias, multipliers) of n channels. */
const perChannel = (operand: string, p: number, n: number) => span(operand, p, q8ChannelBytes(n));

/** Resize family: x [H][W][C] in, y [OH][OW][C] out (bytes per element e). */
const resizeRanges = (
  a: Args<{ x: 'ptr'; H: 'i32'; W: 'i32'; C: 'i32'; y: 'ptr'; OH: 'i32'; OW: 'i32' }>,
  e: number,
) => ({
  reads: [span('x', a.x, a.H * a.W * a.C * e)],
  writes: [span('y', a.y, a.OH * a.OW * a.C * e)],
});

/** Elementwise over n elements of e bytes: x in, y out. */
const unaryRanges = (a: Args<{ x: 'ptr'; n: 'i32'; y: 'ptr' }>, e: number): KernelRanges => ({
  reads: [span('x', a.x, a.n * e)],
  writes: [span('y', a.y, a.n * e)],
});

/**
 * Arguments of bodies that several exports share: each export copies its arguments (and
 * the `fill` expressions) into its own instance and passes that (generate.ts), so a shared
 * body's parameter list is written once, here.
 */
/** The parameters every dense convolution takes, in order: input and output planes, window, padding. */
const CONV_WINDOW = {
  x: 'ptr',
  H: 'i32',
  W: 'i32',
  C: 'i32',
  y: 'ptr',
  OH: 'i32',
  OW: 'i32',
  OC: 'i32',
  kh: 'i32',
  kw: 'i32',
  sh: 'i32',
  sw: 'i32',
  dh: 'i32',
  dw: 'i32',
  padTop: 'i32',
  padLeft: 'i32',
} as const;

export const BODY_STRUCTS = {
  /** Bilinear resize of x [H][W][C] to y: ids 0, the values [OH][OW][C]; 1 or 4, u8 or i32 class ids [OH][OW]. */
  ResizeArgs: {
    x: 'ptr',
    H: 'i32',
    W: 'i32',
    C: 'i32',
    y: 'ptr',
    OH: 'i32',
    OW: 'i32',
    alignCorners: 'i32',
    halfPixelCenters: 'i32',
    ids: 'i32',
  },
  /** Average pool of x [H][W][C] into y [OH][OW][C] (lo, hi as f32 for every element type). */
  PoolArgs: {
    x: 'ptr',
    H: 'i32',
    W: 'i32',
    C: 'i32',
    y: 'ptr',
    OH: 'i32',
    OW: 'i32',
    kh: 'i32',
    kw: 'i32',
    sh: 'i32',
    sw: 'i32',
    padTop: 'i32',
    padLeft: 'i32',
    lo: 'f32',
    hi: 'f32',
  },
  /** f32 dense convolution of x [H][W][C] into y [OH][OW][OC] (also the fused block's stem, fused.ts). */
  ConvArgs: {
    ...CONV_WINDOW,
    w: 'ptr',
    b: 'ptr',
    lo: 'f32',
    hi: 'f32',
  },
  /** f32 depthwise 3x3 of x [H][W][C] into y [OH][OW][C]. */
  Dw3x3Args: {
    x: 'ptr',
    H: 'i32',
    W: 'i32',
    C: 'i32',
    y: 'ptr',
    OH: 'i32',
    OW: 'i32',
    sh: 'i32',
    sw: 'i32',
    dh: 'i32',
    dw: 'i32',
    padTop: 'i32',
    padLeft: 'i32',
    w: 'ptr',
    b: 'ptr',
    lo: 'f32',
    hi: 'f32',
  },
  /**
   * q8 dense convolution of x [H][W][C] into the output window [oy0, oy1) × [ox0, ox1) × OC of y,
   * pixels ops bytes apart (the fused block's expansion writes an E window).
   */
  Q8ConvArgs: {
    x: 'ptr',
    H: 'i32',
    W: 'i32',
    C: 'i32',
    y: 'ptr',
    oy0: 'i32',
    oy1: 'i32',
    ox0: 'i32',
    ox1: 'i32',
    OC: 'i32',
    ops: 'i32',
    kh: 'i32',
    kw: 'i32',
    sh: 'i32',
    sw: 'i32',
    dh: 'i32',
    dw: 'i32',
    pt: 'i32',
    pl: 'i32',
    w: 'ptr',
    b: 'ptr',
    s: 'ptr',
    rq: 'ptr',
    zx: 'i32',
  },
  /**
   * q8 depthwise 3x3 of an input window (rows from xr0, columns from xc0, xCols columns of
   * the [H][W] image) into the output window [oy0, oy1) × [ox0, ox1) × C (the fused block's tiles).
   */
  Q8DwArgs: {
    x: 'ptr',
    xr0: 'i32',
    xc0: 'i32',
    xCols: 'i32',
    H: 'i32',
    W: 'i32',
    C: 'i32',
    y: 'ptr',
    oy0: 'i32',
    oy1: 'i32',
    ox0: 'i32',
    ox1: 'i32',
    sh: 'i32',
    sw: 'i32',
    dh: 'i32',
    dw: 'i32',
    pt: 'i32',
    pl: 'i32',
    w: 'ptr',
    ws: 'usize',
    b: 'ptr',
    s: 'ptr',
    rq: 'ptr',
    zx: 'i32',
  },
  /** q8 requantization of int32 accumulators (rows `as` bytes apart) into bytes, optionally with the residual ADD. */
  Q8RequantArgs: {
    acc: 'ptr',
    M: 'i32',
    N: 'i32',
    as: 'usize',
    s: 'ptr',
    y: 'ptr',
    ys: 'usize',
    rq: 'ptr',
    res: 'ptr',
    rs: 'usize',
  },
} as const satisfies Readonly<Record<string, BodyStruct>>;

export const KERNELS = {
  f32_gemm_1x1: kernel({
    doc: 'y[M][N] = clamp((accumulate ? y : b|0) + x[M][K]·W + res, lo, hi); w from packGemm1x1.',
    params: {
      x: 'ptr',
      M: 'i32',
      K: 'i32',
      w: 'ptr',
      b: 'ptr',
      y: 'ptr',
      N: 'i32',
      lo: 'f32',
      hi: 'f32',
      res: 'ptr',
      accumulate: 'i32',
    },
    checks: [
      ['M >= 0 && K > 0 && N > 0', 'f32_gemm_1x1: bad M, K or N'],
      ['!(lo > hi)', 'f32_gemm_1x1: lo > hi'],
    ],
    body: { from: 'gemm', fn: 'gemm1x1' },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.M * a.K * F),
        span('w', a.w, packGemm1x1Length(a.N, a.K) * F),
        ...opt(a.b, span('b', a.b, a.N * F)),
        ...opt(a.res, span('res', a.res, a.M * a.N * F)),
        ...opt(a.accumulate, span('y', a.y, a.M * a.N * F)),
      ],
      writes: [span('y', a.y, a.M * a.N * F)],
    }),
  }),
  f32_conv3x3_s2: kernel({
    doc: '3x3 stride-2 conv (the stem), any C; OC may be a slice (w, b point at it); w from packConv(…, 3, 3, …).',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      OC: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      w: 'ptr',
      b: 'ptr',
      lo: 'f32',
      hi: 'f32',
    },
    checks: [['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0', 'f32_conv3x3_s2: bad shape']],
    body: {
      from: 'conv',
      fn: 'conv2d',
      struct: 'ConvArgs',
      fill: { kh: '3', kw: '3', sh: '2', sw: '2', dh: '1', dw: '1' },
    },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.H * a.W * a.C * F),
        span('w', a.w, packConvLength(a.OC, 3, 3, a.C) * F),
        ...opt(a.b, span('b', a.b, a.OC * F)),
      ],
      writes: [span('y', a.y, a.OH * a.OW * a.OC * F)],
    }),
  }),
  f32_conv2d_generic: kernel({
    doc: 'Dense conv of any kernel, stride and dilation; w from packConv.',
    params: {
      ...CONV_WINDOW,
      w: 'ptr',
      b: 'ptr',
      lo: 'f32',
      hi: 'f32',
    },
    checks: [
      ['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0', 'f32_conv2d_generic: bad shape'],
      [
        'kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0',
        'f32_conv2d_generic: bad kernel, stride or dilation',
      ],
    ],
    body: { from: 'conv', fn: 'conv2d', struct: 'ConvArgs' },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.H * a.W * a.C * F),
        span('w', a.w, packConvLength(a.OC, a.kh, a.kw, a.C) * F),
        ...opt(a.b, span('b', a.b, a.OC * F)),
      ],
      writes: [span('y', a.y, a.OH * a.OW * a.OC * F)],
    }),
  }),
  f32_dwconv3x3_s1: f32Dw3x3('Depthwise 3x3, stride 1; w from packDepthwise3x3.', 1),
  f32_dwconv3x3_s2: f32Dw3x3('Depthwise 3x3, stride 2; w from packDepthwise3x3.', 2),
  f32_dwconv3x3_generic: kernel({
    doc: 'Depthwise 3x3 of any stride and dilation; w from packDepthwise3x3.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      sh: 'i32',
      sw: 'i32',
      dh: 'i32',
      dw: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      w: 'ptr',
      b: 'ptr',
      lo: 'f32',
      hi: 'f32',
    },
    checks: [
      ['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0', 'f32_dwconv3x3_generic: bad shape'],
      ['sh > 0 && sw > 0 && dh > 0 && dw > 0', 'f32_dwconv3x3_generic: bad stride or dilation'],
    ],
    body: { from: 'dwconv', fn: 'dwconv3x3', struct: 'Dw3x3Args' },
    ranges: dwRanges,
  }),
  f32_global_avgpool: kernel({
    doc: 'y[C] = mean of x over HW pixels.',
    params: { x: 'ptr', HW: 'i32', C: 'i32', y: 'ptr' },
    checks: [['HW > 0 && C > 0', 'f32_global_avgpool: bad shape']],
    body: { from: 'pool', fn: 'globalAvgPool' },
    ranges: (a) => ({ reads: [span('x', a.x, a.HW * a.C * F)], writes: [span('y', a.y, a.C * F)] }),
  }),
  f32_channel_sums: kernel({
    doc: 'acc[c] = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c], pixels in order: a global pool’s sums a few pixels at a time (a row-streamed head).',
    params: { x: 'ptr', P: 'i32', C: 'i32', acc: 'ptr', first: 'i32' },
    checks: [['P >= 0 && C > 0', 'f32_channel_sums: bad shape']],
    body: { from: 'pool', fn: 'channelSums' },
    ranges: (a) => ({
      reads: [span('x', a.x, a.P * a.C * F), ...opt(a.first ? 0 : 1, span('acc', a.acc, a.C * F))],
      writes: [span('acc', a.acc, a.C * F)],
    }),
  }),
  f32_avgpool_generic: kernel({
    doc: 'Average pool; padded pixels are not counted (TF semantics).',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      kh: 'i32',
      kw: 'i32',
      sh: 'i32',
      sw: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      lo: 'f32',
      hi: 'f32',
    },
    checks: [['H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0', 'f32_avgpool_generic: bad shape']],
    body: { from: 'pool', fn: 'avgPool', types: ['f32'], struct: 'PoolArgs' },
    ranges: (a) => resizeRanges(a, F),
  }),
  f32_fully_connected: kernel({
    doc: 'y[N] = clamp(b + W·x, lo, hi); w from packFullyConnected.',
    params: { x: 'ptr', K: 'i32', w: 'ptr', b: 'ptr', y: 'ptr', N: 'i32', lo: 'f32', hi: 'f32' },
    checks: [['K > 0 && N > 0', 'f32_fully_connected: bad K or N']],
    body: { from: 'fc', fn: 'fullyConnected' },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.K * F),
        span('w', a.w, packFullyConnectedLength(a.N, a.K) * F),
        ...opt(a.b, span('b', a.b, a.N * F)),
      ],
      writes: [span('y', a.y, a.N * F)],
    }),
  }),
  f32_add: kernel({
    doc: 'y = clamp(a + b, lo, hi); y may alias a or b.',
    params: { a: 'ptr', b: 'ptr', y: 'ptr', n: 'i32', lo: 'f32', hi: 'f32' },
    checks: [['n >= 0', 'f32_add: bad n']],
    body: { from: 'misc', fn: 'add' },
    ranges: (a) => ({
      reads: [span('a', a.a, a.n * F), span('b', a.b, a.n * F)],
      writes: [span('y', a.y, a.n * F)],
    }),
  }),
  f32_softmax: kernel({
    doc: 'y = softmax(beta·x) over n values; y holds exp(x − max) before normalizing, so it is read back.',
    params: { x: 'ptr', n: 'i32', y: 'ptr', beta: 'f32' },
    checks: [['n > 0', 'f32_softmax: bad n']],
    body: { from: 'misc', fn: 'softmax' },
    ranges: (a) => ({
      reads: [span('x', a.x, a.n * F), span('y', a.y, a.n * F)],
      writes: [span('y', a.y, a.n * F)],
    }),
  }),
  f32_resize_bilinear: kernel({
    doc: 'Bilinear resize of x [H][W][C] to y [OH][OW][C] (TFLite semantics).',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      alignCorners: 'i32',
      halfPixelCenters: 'i32',
    },
    checks: [['H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0', 'f32_resize_bilinear: bad shape']],
    body: { from: 'resize', fn: 'resizeBilinear', struct: 'ResizeArgs', fill: { ids: '0' } },
    ranges: (a) => resizeRanges(a, F),
  }),
  f32_argmax_channels: kernel({
    doc: 'y[p] = index of the first maximum of x[p][0..C), as outBytes (1, 4 or 8; 0: 4) bytes: ARG_MAX’s uint8, int32 or int64 output.',
    params: { x: 'ptr', P: 'i32', C: 'i32', y: 'ptr', outBytes: 'i32?' },
    checks: [
      ['P >= 0 && C > 0', 'f32_argmax_channels: bad shape'],
      [
        '(outBytes == 0 || outBytes == 1 || outBytes == 4 || outBytes == 8) && (outBytes != 1 || C <= 256)',
        'f32_argmax_channels: bad outBytes',
      ],
    ],
    body: { from: 'misc', fn: 'argmaxChannels' },
    ranges: (a) => ({ reads: [span('x', a.x, a.P * a.C * F)], writes: [span('y', a.y, a.P * (a.outBytes || 4))] }),
  }),
  f32_resize_argmax: kernel({
    doc: 'Fused resize + arg-max over channels: y [OH][OW] class ids (u8, or i32 when outI32) of the f32_resize_bilinear scores, bit-identical to f32_resize_bilinear then f32_argmax_channels.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      alignCorners: 'i32',
      halfPixelCenters: 'i32',
      outI32: 'i32',
    },
    checks: [['H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0 && (outI32 || C <= 256)', 'f32_resize_argmax: bad shape']],
    body: { from: 'resize', fn: 'resizeBilinear', struct: 'ResizeArgs', fill: { ids: 'outI32 ? 4 : 1' } },
    ranges: (a) => ({
      reads: [span('x', a.x, a.H * a.W * a.C * F)],
      writes: [span('y', a.y, a.OH * a.OW * (a.outI32 ? 4 : 1))],
    }),
  }),
  copy_strided: kernel({
    doc: 'rows × rowBytes copied from src (stride srcStride) to dst (stride dstStride); for concat along channels.',
    params: { src: 'ptr', dst: 'ptr', rows: 'i32', rowBytes: 'i32', srcStride: 'i32', dstStride: 'i32' },
    checks: [['rows >= 0 && rowBytes >= 0', 'copy_strided: bad rows or rowBytes']],
    body: { from: 'misc', fn: 'copyStrided' },
    ranges: (a) => ({
      reads: [rows('src', a.src, a.rowBytes, a.rows, a.srcStride)],
      writes: [rows('dst', a.dst, a.rowBytes, a.rows, a.dstStride)],
    }),
  }),
  f32_block_fused: kernel({
    doc: 'Fused inverted-residual block (paper Section 5.1; assembly/fused.ts), one call per block: expansion (1x1, or stem = 1: 3x3/2 conv) → depthwise 3x3 → projection into y (+ res), expanded channels in groups of g, a ring of ringRows expanded rows in e and bandRows depthwise rows in d (planner/block_schedule.ts); w from packFusedBlock with the same g.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      Cin: 'i32',
      stem: 'i32',
      He: 'i32',
      We: 'i32',
      ePadTop: 'i32',
      ePadLeft: 'i32',
      Cexp: 'i32',
      sh: 'i32',
      sw: 'i32',
      dh: 'i32',
      dw: 'i32',
      dPadTop: 'i32',
      dPadLeft: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      Cout: 'i32',
      w: 'ptr',
      res: 'ptr',
      lo: 'f32',
      hi: 'f32',
      e: 'ptr',
      d: 'ptr',
      g: 'i32',
      ringRows: 'i32',
      bandRows: 'i32',
      // Row-streamed calls: output rows [r0, r1) (r1 = 0: all of them); x and y rings of
      // xRows and yRows rows (0: whole tensors; res reads x's ring), xBytes and yBytes long;
      // persist = 1: the ring of expanded rows in e outlives the call (g = Cexp).
      r0: 'i32?',
      r1: 'i32?',
      xRows: 'i32?',
      xBytes: 'bytes?',
      yRows: 'i32?',
      yBytes: 'bytes?',
      persist: 'i32?',
    },
    checks: [
      [
        'H > 0 && W > 0 && Cin > 0 && He > 0 && We > 0 && Cexp > 0 && OH > 0 && OW > 0 && Cout > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0 && !(lo > hi) && (stem != 0 || (He == H && We == W && ePadTop == 0 && ePadLeft == 0))',
        'f32_block_fused: bad shape',
      ],
      // The ring must hold every expanded row one band of depthwise output rows reads.
      [
        'g > 0 && g <= Cexp && bandRows > 0 && (r1 > 0 || bandRows <= OH) && ringRows >= min(He, (bandRows - 1) * sh + 2 * dh + 1)',
        'f32_block_fused: bad schedule',
      ],
      [
        'r1 == 0 || (r0 >= 0 && r1 > r0 && r1 <= OH && xRows >= 0 && yRows >= 0 && xBytes > 0 && yBytes > 0 && (persist == 0 || g == Cexp))',
        'f32_block_fused: bad rows',
      ],
    ],
    body: { from: 'fused', fn: 'fusedBlock' },
    // The scratch is only the part of e and d the schedule uses (a ring of min(ringRows, He)
    // expanded rows and a band of bandRows depthwise rows, g channels each); both are read
    // back. y is read when more than one group accumulates into it. A row-streamed call reads
    // and writes its whole rings (or tensors), xBytes and yBytes long.
    ranges: (a) => {
      const streamed = a.r1 > 0;
      const yBytes = streamed ? a.yBytes : a.OH * a.OW * a.Cout * F;
      const xBytes = streamed ? a.xBytes : a.H * a.W * a.Cin * F;
      const y = span('y', a.y, yBytes);
      const e = span('e', a.e, Math.min(a.ringRows, a.He) * a.We * a.g * F);
      const d = span('d', a.d, a.bandRows * a.OW * a.g * F);
      const kExp = a.stem ? 9 * a.Cin : a.Cin;
      return {
        reads: [
          span('x', a.x, xBytes),
          span('w', a.w, packFusedBlockLength(kExp, a.Cexp, a.Cout, a.g) * F),
          ...opt(a.res, span('res', a.res, streamed ? a.xBytes : a.OH * a.OW * a.Cout * F)),
          ...(a.g < a.Cexp ? [y] : []),
          e,
          d,
        ],
        writes: [y, e, d],
      };
    },
  }),

  q8_gemm: kernel({
    doc: 'y[m][n] = requantize(b′[n] + Σ_k x[m][k]·w′[n][k]) (+ residual ADD when rq says so); strides in bytes.',
    params: {
      x: 'ptr',
      M: 'i32',
      K: 'i32',
      xs: 'usize',
      w: 'ptr',
      N: 'i32',
      b: 'ptr',
      s: 'ptr',
      y: 'ptr',
      ys: 'usize',
      rq: 'ptr',
      res: 'ptr',
      rs: 'usize',
      sg: 'sign',
    },
    checks: [['M >= 0 && K > 0 && N > 0 && xs >= K && ys >= N', Q8_ARGS]],
    body: { from: 'q8_gemm', fn: 'gemmRq' },
    ranges: (a) => ({
      reads: [
        rows('x', a.x, a.K, a.M, a.xs),
        span('w', a.w, packQ8GemmLength(a.N, a.K)),
        perChannel('b', a.b, a.N),
        perChannel('s', a.s, a.N),
        span('rq', a.rq, Q8_RQ.bytes),
        ...opt(a.res, rows('res', a.res, a.N, a.M, a.rs)),
      ],
      writes: [rows('y', a.y, a.N, a.M, a.ys)],
    }),
  }),
  q8_gemm_acc: kernel({
    doc: 'acc[m][n] (+)= Σ_k x[m][k]·w′[n][k] in int32 (init = 1: from b′); panels ps bytes apart; zw: the uint8 weights’ zero point.',
    params: {
      x: 'ptr',
      M: 'i32',
      K: 'i32',
      xs: 'usize',
      w: 'ptr',
      ps: 'usize',
      N: 'i32',
      b: 'ptr',
      acc: 'ptr',
      as: 'usize',
      init: 'i32',
      zw: 'i32',
      sg: 'sign',
    },
    checks: [['M >= 0 && K > 0 && N > 0 && xs >= K && as >= N * 4 && ps >= ((K + 1) >> 1) * 16', Q8_ARGS]],
    body: { from: 'q8_gemm', fn: 'gemmAcc' },
    ranges: (a) => ({
      reads: [
        rows('x', a.x, a.K, a.M, a.xs),
        rows('w', a.w, q8PanelBytes(a.K), Math.ceil(a.N / Q8_NR), a.ps),
        ...opt(a.init, perChannel('b', a.b, a.N)),
        ...(a.init ? [] : [rows('acc', a.acc, a.N * 4, a.M, a.as)]),
      ],
      writes: [rows('acc', a.acc, a.N * 4, a.M, a.as)],
    }),
  }),
  q8_requant_acc: kernel({
    doc: 'y[m][n] = requantize(acc[m][n]) (+ residual ADD when rq says so).',
    params: {
      acc: 'ptr',
      M: 'i32',
      N: 'i32',
      as: 'usize',
      s: 'ptr',
      y: 'ptr',
      ys: 'usize',
      rq: 'ptr',
      res: 'ptr',
      rs: 'usize',
      sg: 'sign',
    },
    checks: [['M >= 0 && N > 0 && as >= N * 4 && ys >= N', Q8_ARGS]],
    body: {
      from: 'q8_gemm',
      fn: 'requantAcc',
      struct: 'Q8RequantArgs',
      fill: { as: '<usize>as', ys: '<usize>ys', rs: '<usize>rs' },
    },
    ranges: (a) => ({
      reads: [
        rows('acc', a.acc, a.N * 4, a.M, a.as),
        perChannel('s', a.s, a.N),
        span('rq', a.rq, Q8_RQ.bytes),
        ...opt(a.res, rows('res', a.res, a.N, a.M, a.rs)),
      ],
      writes: [rows('y', a.y, a.N, a.M, a.ys)],
    }),
  }),
  q8_conv2d: kernel({
    doc: 'Dense conv of x [H][W][C] into y [OH][OW][OC]; w from packQ8Conv; zx pads.',
    params: {
      ...CONV_WINDOW,
      w: 'ptr',
      b: 'ptr',
      s: 'ptr',
      rq: 'ptr',
      zx: 'i32',
      sg: 'sign',
    },
    checks: [
      ['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0', Q8_ARGS],
      ['kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0', Q8_ARGS],
    ],
    // The body writes a window of output rows and columns (the fused block's expansion uses it).
    body: {
      from: 'q8_conv',
      fn: 'conv2d',
      struct: 'Q8ConvArgs',
      fill: { oy0: '0', oy1: 'OH', ox0: '0', ox1: 'OW', ops: 'OC', pt: 'padTop', pl: 'padLeft' },
    },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.H * a.W * a.C),
        span('w', a.w, packQ8ConvLength(a.OC, a.kh, a.kw, a.C, a.dw)),
        perChannel('b', a.b, a.OC),
        perChannel('s', a.s, a.OC),
        span('rq', a.rq, Q8_RQ.bytes),
      ],
      writes: [span('y', a.y, a.OH * a.OW * a.OC)],
    }),
  }),
  q8_dwconv3x3: kernel({
    doc: 'Depthwise 3x3 of x [H][W][C] into y [OH][OW][C]; w from packQ8Depthwise (tap pairs ws bytes apart); zx pads.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      sh: 'i32',
      sw: 'i32',
      dh: 'i32',
      dw: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      w: 'ptr',
      ws: 'usize',
      b: 'ptr',
      s: 'ptr',
      rq: 'ptr',
      zx: 'i32',
      sg: 'sign',
    },
    checks: [
      ['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && ws >= C * 2', Q8_ARGS],
      ['sh > 0 && sw > 0 && dh > 0 && dw > 0', Q8_ARGS],
    ],
    // The body reads a window of input rows and writes one of output rows and columns (the fused block's tiles).
    body: {
      from: 'q8_dwconv',
      fn: 'dwconv3x3',
      struct: 'Q8DwArgs',
      fill: {
        xr0: '0',
        xc0: '0',
        xCols: 'W',
        oy0: '0',
        oy1: 'OH',
        ox0: '0',
        ox1: 'OW',
        pt: 'padTop',
        pl: 'padLeft',
        ws: '<usize>ws',
      },
    },
    ranges: (a) => ({
      reads: [
        span('x', a.x, a.H * a.W * a.C),
        rows('w', a.w, q8DepthwiseRowReadBytes(a.C), Q8_DW_PAIR_ROWS, a.ws),
        span('b', a.b, q8DepthwiseStride(a.C) * 4),
        span('s', a.s, q8DepthwiseStride(a.C) * 4),
        span('rq', a.rq, Q8_RQ.bytes),
      ],
      writes: [span('y', a.y, a.OH * a.OW * a.C)],
    }),
  }),
  q8_add: kernel({
    doc: 'ADD with requantization (fixed-point multipliers ma, mb and shift from addParams); y may alias a or b.',
    params: {
      a: 'ptr',
      b: 'ptr',
      y: 'ptr',
      n: 'i32',
      za: 'i32',
      zb: 'i32',
      ma: 'i32',
      mb: 'i32',
      shift: 'i32',
      zy: 'i32',
      lo: 'i32',
      hi: 'i32',
      sg: 'sign',
    },
    checks: [['n >= 0 && shift >= 1 && shift <= 31 && lo <= hi', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'add' },
    ranges: (a) => ({
      reads: [span('a', a.a, a.n), span('b', a.b, a.n)],
      writes: [span('y', a.y, a.n)],
    }),
  }),
  q8_global_avgpool: kernel({
    doc: 'Global average pool, input and output on the same grid: rounded integer mean.',
    params: { x: 'ptr', HW: 'i32', C: 'i32', y: 'ptr', lo: 'i32', hi: 'i32', sg: 'sign' },
    checks: [['HW > 0 && C > 0', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'globalAvgPool' },
    ranges: (a) => ({ reads: [span('x', a.x, a.HW * a.C)], writes: [span('y', a.y, a.C)] }),
  }),
  q8_channel_sums: kernel({
    doc: 'acc[c] (int32) = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c]: a global pool’s sums a few pixels at a time (a row-streamed head).',
    params: { x: 'ptr', P: 'i32', C: 'i32', acc: 'ptr', first: 'i32', sg: 'sign' },
    checks: [['P >= 0 && C > 0', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'channelSums' },
    ranges: (a) => ({
      reads: [span('x', a.x, a.P * a.C), ...opt(a.first ? 0 : 1, span('acc', a.acc, a.C * 4))],
      writes: [span('acc', a.acc, a.C * 4)],
    }),
  }),
  q8_avgpool: kernel({
    doc: 'Windowed average pool on one grid: rounded integer mean of the taps inside the image, clamped to [lo, hi].',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      kh: 'i32',
      kw: 'i32',
      sh: 'i32',
      sw: 'i32',
      padTop: 'i32',
      padLeft: 'i32',
      lo: 'i32',
      hi: 'i32',
      sg: 'sign',
    },
    checks: [['H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0', Q8_ARGS]],
    body: { from: 'pool', fn: 'avgPool', struct: 'PoolArgs', fill: { lo: '<f32>lo', hi: '<f32>hi' } },
    ranges: (a) => resizeRanges(a, 1),
  }),
  q8_mean: kernel({
    doc: 'MEAN over HW with requantization: y = clamp(rint(f32(Σ(x − zx))·s) + zy).',
    params: {
      x: 'ptr',
      HW: 'i32',
      C: 'i32',
      y: 'ptr',
      zx: 'i32',
      s: 'f32',
      zy: 'i32',
      lo: 'i32',
      hi: 'i32',
      sg: 'sign',
    },
    checks: [['HW > 0 && C > 0', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'mean' },
    ranges: (a) => ({ reads: [span('x', a.x, a.HW * a.C)], writes: [span('y', a.y, a.C)] }),
  }),
  q8_softmax: kernel({
    doc: 'Softmax of one row of n quantized values; k = f32(−s_in·β).',
    params: { x: 'ptr', n: 'i32', y: 'ptr', k: 'f32', sOut: 'f32', zy: 'i32', sg: 'sign' },
    checks: [['n > 0', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'softmax' },
    ranges: (a) => unaryRanges(a, 1),
  }),
  q8_requantize: kernel({
    doc: 'QUANTIZE between grids: y = clamp(rint(f32(x − zx)·m) + zy); sgIn / sgOut: byte types.',
    params: { x: 'ptr', n: 'i32', y: 'ptr', zx: 'i32', m: 'f32', zy: 'i32', sgIn: 'sign', sgOut: 'sign' },
    checks: [['n >= 0', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'requantize' },
    ranges: (a) => unaryRanges(a, 1),
  }),
  q8_convert: kernel({
    doc: 'QUANTIZE within one type (XNNPACK’s convert): y = sat(((x − zx)·m + 128) >> 8 + zy), m = lrintf(256·s_in/s_out); y may alias x.',
    params: { x: 'ptr', n: 'i32', y: 'ptr', zx: 'i32', m: 'i32', zy: 'i32', sg: 'sign' },
    checks: [['n >= 0 && m >= 1 && m <= 32768', Q8_ARGS]],
    body: { from: 'q8_misc', fn: 'convert' },
    ranges: (a) => unaryRanges(a, 1),
  }),
  q8_resize_bilinear: kernel({
    doc: 'RESIZE_BILINEAR of x [H][W][C] into y [OH][OW][C] (same quantization), XNNPACK’s 11-bit arithmetic.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      alignCorners: 'i32',
      halfPixelCenters: 'i32',
      sg: 'sign',
    },
    checks: [['H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0', Q8_ARGS]],
    body: { from: 'q8_resize', fn: 'resizeQ', struct: 'ResizeArgs', fill: { ids: '0' } },
    ranges: (a) => resizeRanges(a, 1),
  }),
  q8_resize_argmax: kernel({
    doc: 'Fused RESIZE_BILINEAR + ARG_MAX over channels: y [OH][OW] class ids (u8, or i32 when outI32), each the first maximum of the pixel’s resized bytes; the resized scores are never stored.',
    params: {
      x: 'ptr',
      H: 'i32',
      W: 'i32',
      C: 'i32',
      y: 'ptr',
      OH: 'i32',
      OW: 'i32',
      alignCorners: 'i32',
      halfPixelCenters: 'i32',
      outI32: 'i32',
      sg: 'sign',
    },
    checks: [['H > 0 && W > 0 && C > 0 && C < 1 << 23 && OH > 0 && OW > 0 && (outI32 || C <= 256)', Q8_ARGS]],
    body: { from: 'q8_resize', fn: 'resizeQ', struct: 'ResizeArgs', fill: { ids: 'outI32 ? 4 : 1' } },
    ranges: (a) => ({
      reads: [span('x', a.x, a.H * a.W * a.C)],
      writes: [span('y', a.y, a.OH * a.OW * (a.outI32 ? 4 : 1))],
    }),
  }),
  q8_argmax: kernel({
    doc: 'ARG_MAX over the last axis: P rows of C bytes → class ids of outBytes (1, 4 or 8) bytes each.',
    params: { x: 'ptr', P: 'i32', C: 'i32', y: 'ptr', outBytes: 'i32', sg: 'sign' },
    checks: [
      ['P >= 0 && C > 0 && (outBytes == 1 || outBytes == 4 || outBytes == 8) && (outBytes > 1 || C <= 256)', Q8_ARGS],
    ],
    body: { from: 'q8_resize', fn: 'argmaxQ' },
    ranges: (a) => ({ reads: [span('x', a.x, a.P * a.C)], writes: [span('y', a.y, a.P * a.outBytes)] }),
  }),
  q8_block: kernel({
    doc: 'Fused inverted residual block (assembly/q8_block.ts) from its Q8BlockDesc descriptor; x, y, e, d are the block input, output and the two chunk buffers; the byte counts are for the range manifest and the debug checks.',
    params: {
      desc: 'ptr',
      descBytes: 'bytes',
      wb: 'ptr',
      wBytes: 'bytes',
      x: 'ptr',
      xBytes: 'bytes',
      y: 'ptr',
      yBytes: 'bytes',
      e: 'ptr',
      eBytes: 'bytes',
      d: 'ptr',
      dBytes: 'bytes',
      // Row-streamed calls: output rows [r0, r1) of one band (r1 = 0: the whole output), the
      // tiles' rows counted from r0; x and y rings of xRows and yRows rows (0: whole tensors).
      r0: 'i32?',
      r1: 'i32?',
      xRows: 'i32?',
      yRows: 'i32?',
    },
    checks: [
      [
        `descBytes >= ${Q8_BLOCK_DESC.bytes} && wBytes > 0 && xBytes > 0 && yBytes > 0 && eBytes > 0 && dBytes > 0`,
        Q8_ARGS,
      ],
      ['r1 == 0 || (r0 >= 0 && r1 > r0 && xRows >= 0 && yRows >= 0)', 'q8_block: bad rows'],
    ],
    body: { from: 'q8_block', fn: 'blockKernel' },
    // The block's accumulators live in e, d or the unwritten part of y, so y is read too.
    ranges: (a) => ({
      reads: [
        span('desc', a.desc, a.descBytes),
        span('weights', a.wb, a.wBytes),
        span('x', a.x, a.xBytes),
        span('y', a.y, a.yBytes),
        span('e', a.e, a.eBytes),
        span('d', a.d, a.dBytes),
      ],
      writes: [span('y', a.y, a.yBytes), span('e', a.e, a.eBytes), span('d', a.d, a.dBytes)],
    }),
  }),
} as const;

export type KernelSchema = typeof KERNELS;
export type KernelName = keyof KernelSchema;
