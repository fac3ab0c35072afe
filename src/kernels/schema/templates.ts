/**
 * Microkernel templates in XNNPACK's manner: one template per family, expanded by the
 * generator into one AssemblyScript function per variant, named as XNNPACK names its
 * microkernels: family, tile (MR rows × NR channels, c2s4: the reduction in pairs of
 * inputs, blocks of 4 pairs rotated by one pair per step) and ISA after a double underscore,
 * e.g. q8_gemm_rq_4x8c2s4__wasmsimd. The register-blocked reduction is written once here
 * (kLoop) and shared by the GEMM and the convolution families; each variant is an @inline
 * function, so its accumulators stay in locals (registers) of the caller.
 *
 * Packed weights (src/kernels/q8_pack.ts runOffset): panels of 8 output channels; a run of
 * L inputs is L & ~7 inputs in blocks of 8 (four 16-byte steps; at step r channel j holds
 * pair (j + r) mod 4), then pairs of 16 bytes, an odd last input paired with a zero weight.
 * i32x4.dot_i16x8_s of 8 widened weight bytes (4 channels × 2 inputs) against an input pair
 * in every lane gives 4 channels × 2 products, as in XNNPACK's qs8/qu8 WASM SIMD "c2" GEMMs.
 */

export interface Microkernel {
  readonly name: string;
  source(): string;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ROT = ['', '1, 2, 3, 0', '2, 3, 0, 1', '3, 0, 1, 2'];

/**
 * The reduction over one run of L inputs for mr rows: a{m} point at each row's inputs, wp
 * at the run's packed weights; adds into c{m}0 (channels 0..3) and c{m}1 (4..7). `wl`
 * loads 8 weight bytes as int16. With one row (split), rotations 1 and 3 add into a second
 * accumulator pair e0, e1 (summed by the caller) so that one row is not bound by the add
 * latency.
 */
function kLoop(mr: number, wl: (p: string) => string, L: string, split: boolean, ind: string): string {
  const rows = range(mr);
  const dot = (m: number, acc: string) =>
    `${ind}    ${acc}0 = i32x4.add(${acc}0, i32x4.dot_i16x8_s(u, w0));\n` +
    `${ind}    ${acc}1 = i32x4.add(${acc}1, i32x4.dot_i16x8_s(u, w1));\n`;
  const step = (r: number) =>
    `${ind}  {\n${ind}    const w0 = ${wl(`wp + ${16 * r}`)},\n${ind}      w1 = ${wl(`wp + ${16 * r + 8}`)};\n` +
    rows
      .map(
        (m) =>
          `${ind}    ${m === 0 ? 'let ' : ''}u = ${r === 0 ? `v${m}` : `i32x4.shuffle(v${m}, v${m}, ${ROT[r]})`};\n` +
          dot(m, split && r % 2 === 1 ? 'e' : `c${m}`),
      )
      .join('') +
    `${ind}  }\n`;
  const tail = (load: string) =>
    `${ind}  const w0 = ${wl('wp')},\n${ind}    w1 = ${wl('wp + 8')};\n` +
    rows
      .map((m) => `${ind}  ${m === 0 ? 'let ' : ''}u = ${load}<T>(a${m});\n` + dot(m, `c${m}`).replace(/^ {2}/gm, ''))
      .join('');
  let o = '';
  o += `${ind}let k = 0;\n`;
  o += `${ind}for (; k < (${L} & ~7); k += 8) {\n`;
  o += `${ind}  const ${rows.map((m) => `v${m} = load8x8<T>(a${m})`).join(`,\n${ind}    `)};\n`;
  o += range(4).map(step).join('');
  o += rows.map((m) => `${ind}  a${m} += 8;\n`).join('') + `${ind}  wp += 64;\n${ind}}\n`;
  o += `${ind}for (; k < (${L} & ~1); k += 2) {\n${tail('pair')}`;
  o += rows.map((m) => `${ind}  a${m} += 2;\n`).join('') + `${ind}  wp += 16;\n${ind}}\n`;
  o += `${ind}if (${L} & 1) {\n${tail('single')}${ind}  wp += 16;\n${ind}}\n`;
  return o;
}

/** Row m's offset from row 0 in a block of mr rows whose rows past `last` alias the last one. */
const rowOff = (m: number) => (m === 0 ? '0' : `<usize>min(${m}, last)`);

const IMPORTS = `import {
  epilogue,
  ext8hi,
  ext8lo,
  load8x8,
  narrowBytes,
  pair,
  requant8,
  rowCorr,
  rqLo,
  rqHi,
  rqMz,
  single,
  storeBytes,
  wload,
} from '../q8_common';
import { loadPartial8lo, loadPartial8hi, storePartial8 } from '../common';
import {
  Q8_RQ_HI_Y,
  Q8_RQ_LO_Y,
  Q8_RQ_M_P,
  Q8_RQ_M_RES,
  Q8_RQ_RESIDUAL,
  Q8_RQ_SHIFT,
  Q8_RQ_Z,
  Q8_RQ_Z_RES,
  Q8_RQ_Z_Y,
  Q8_RQ_ZW,
} from './abi';
`;

/** The Q8_RQ block's vectors, splatted once per call: requantization, then the residual ADD's. */
const RQ_PROLOGUE = `  const hasRes = res != 0 && load<i32>(rq, Q8_RQ_RESIDUAL) != 0;
  const vmz = rqMz(rq),
    flo = rqLo(rq),
    fhi = rqHi(rq);
  const vzP = i32x4.splat(load<i32>(rq, Q8_RQ_Z)),
    vzR = i32x4.splat(load<i32>(rq, Q8_RQ_Z_RES)),
    vmP = i32x4.splat(load<i32>(rq, Q8_RQ_M_P)),
    vmR = i32x4.splat(load<i32>(rq, Q8_RQ_M_RES)),
    shift = load<i32>(rq, Q8_RQ_SHIFT);
  const vrnd = i32x4.splat(1 << (shift - 1)),
    vzY = i32x4.splat(load<i32>(rq, Q8_RQ_Z_Y));
  const vloY = i32x4.sub(i32x4.splat(load<i32>(rq, Q8_RQ_LO_Y)), vzY),
    vhiY = i32x4.sub(i32x4.splat(load<i32>(rq, Q8_RQ_HI_Y)), vzY);
`;

/**
 * GEMM family: mr rows (x, xs bytes apart; rows past `last` alias the last one, loads before
 * stores, so a short block stores the same values twice) × N channels in panels of 8, ps
 * bytes apart. Output `rq`: bytes requantized by the Q8_RQ block at rq (optionally ADD with
 * res); `acc`: int32 accumulators (init = 1: from the bias, else from acc). uint8 weights
 * are packed as in the file, so each row starts from b′ − zw·Σx (rowCorr) and the inner
 * loop is the int8 one.
 */
function gemm(output: 'rq' | 'acc', mr: number): Microkernel {
  const name = `q8_gemm_${output}_${mr}x8c2s4__wasmsimd`;
  const rows = range(mr);
  const out =
    output === 'rq'
      ? 's: usize, y: usize, ys: usize, res: usize, rs: usize, rq: usize'
      : 'acc: usize, as: usize, init: i32, zw: i32';
  const split = mr === 1;
  return {
    name,
    source() {
      let o = IMPORTS + '\n';
      o += `/** GEMM of ${mr} row${mr > 1 ? 's' : ''} × N channels, ${output === 'rq' ? 'requantized to bytes' : 'into int32 accumulators'} (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}<T>(x: usize, xs: usize, last: i32, K: i32, w: usize, ps: usize, N: i32, b: usize, ${out}): void {\n`;
      if (output === 'rq') o += `  const zw = load<i32>(rq, Q8_RQ_ZW);\n`;
      for (const m of rows) o += `  const x${m} = x + ${rowOff(m)} * xs;\n`;
      for (const m of rows) o += `  const r${m} = rowCorr<T>(x${m}, K, zw);\n`;
      if (output === 'acc') for (const m of rows) o += `  const ar${m} = acc + ${rowOff(m)} * as;\n`;
      if (output === 'rq') o += RQ_PROLOGUE;
      o += `  let wn = w;\n  for (let n0 = 0; n0 < N; n0 += 8) {\n`;
      o += `    const nr = min(8, N - n0);\n    const cb = (<usize>n0) << 2;\n`;
      const decl = rows.map((m) => `c${m}0: v128, c${m}1: v128`).join(', ');
      o += `    let ${decl};\n`;
      const fromBias =
        `      c00 = v128.load(b + cb);\n      c01 = v128.load(b + cb, 16);\n` +
        rows
          .slice(1)
          .map((m) => `      c${m}0 = c00;\n      c${m}1 = c01;\n`)
          .join('');
      if (output === 'rq') o += `    {\n${fromBias}    }\n`;
      else {
        o += `    if (init) {\n${fromBias}    } else if (nr == 8) {\n`;
        o += rows
          .map((m) => `      c${m}0 = v128.load(ar${m} + cb);\n      c${m}1 = v128.load(ar${m} + cb, 16);\n`)
          .join('');
        o += `    } else {\n`;
        o += rows
          .map(
            (m) => `      c${m}0 = loadPartial8lo(ar${m} + cb, nr);\n      c${m}1 = loadPartial8hi(ar${m} + cb, nr);\n`,
          )
          .join('');
        o += `    }\n`;
      }
      o +=
        `    if (!isSigned<T>()) {\n` +
        rows
          .map((m) => `      c${m}0 = i32x4.sub(c${m}0, r${m});\n      c${m}1 = i32x4.sub(c${m}1, r${m});\n`)
          .join('') +
        `    }\n`;
      if (split) o += `    let e0 = i32x4.splat(0),\n      e1 = e0;\n`;
      o += rows.map((m) => `    let a${m} = x${m};\n`).join('') + `    let wp = wn;\n`;
      o += kLoop(mr, (p) => `load8x8<T>(${p})`, 'K', split, '    ');
      if (split) o += `    c00 = i32x4.add(c00, e0);\n    c01 = i32x4.add(c01, e1);\n`;
      const desc = [...rows].reverse();
      if (output === 'rq') {
        o += `    const s0 = v128.load(s + cb),\n      s1 = v128.load(s + cb, 16);\n`;
        o += `    // Highest row first: when rows alias every alias stores the same values.\n`;
        o += desc
          .map(
            (m) =>
              `    epilogue<T>(c${m}0, c${m}1, s0, s1, vmz, flo, fhi, hasRes, res + ${rowOff(m)} * rs + <usize>n0, y + ${rowOff(m)} * ys + <usize>n0, nr, vzP, vzR, vmP, vmR, vrnd, shift, vzY, vloY, vhiY);\n`,
          )
          .join('');
      } else {
        o +=
          `    if (nr == 8) {\n` +
          desc
            .map((m) => `      v128.store(ar${m} + cb, c${m}0);\n      v128.store(ar${m} + cb, c${m}1, 16);\n`)
            .join('');
        o +=
          `    } else {\n` +
          desc.map((m) => `      storePartial8(ar${m} + cb, c${m}0, c${m}1, nr);\n`).join('') +
          `    }\n`;
      }
      o += `    wn += ps;\n  }\n}\n`;
      return o;
    },
  };
}

/**
 * Convolution family: 4 horizontally adjacent output pixels (pixS bytes apart in the input)
 * × 8 channels, every tap inside the image; the reduction runs over kh rows (rowS apart) of
 * nseg segments (segS apart) of L contiguous input bytes (a whole kernel row when the
 * dilation along x is 1, else one tap). uint8 weights widen with their zero point vzw
 * subtracted (padding holds zw). Output: bytes requantized by vmz, flo, fhi, pixels os apart.
 */
function conv(mr: number): Microkernel {
  const name = `q8_conv_rq_${mr}x8c2s4__wasmsimd`;
  const rows = range(mr);
  return {
    name,
    source() {
      let o = IMPORTS + '\n';
      o += `/** Convolution of ${mr} pixels × 8 channels, requantized to bytes (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}<T>(p0: usize, pixS: usize, kh: i32, nseg: i32, L: i32, rowS: usize, segS: usize, wp: usize, b: usize, s: usize, y: usize, os: usize, nr: i32, vmz: v128, flo: v128, fhi: v128, vzw: v128): void {\n`;
      o += `  let c00 = v128.load(b),\n    c01 = v128.load(b, 16);\n`;
      o += rows
        .slice(1)
        .map((m) => `  let c${m}0 = c00,\n    c${m}1 = c01;\n`)
        .join('');
      o += `  for (let ky = 0; ky < kh; ky++) {\n    let tp = p0 + <usize>ky * rowS;\n    for (let sg = 0; sg < nseg; sg++) {\n`;
      o += rows.map((m) => `      let a${m} = tp${m ? ` + ${m} * pixS` : ''};\n`).join('');
      o += kLoop(mr, (p) => `wload<T>(${p}, vzw)`, 'L', false, '      ');
      o += `      tp += segS;\n    }\n  }\n`;
      o += `  const s0 = v128.load(s),\n    s1 = v128.load(s, 16);\n`;
      o += rows
        .map(
          (m) => `  storeBytes(y + ${m} * os, narrowBytes<T>(requant8(c${m}0, c${m}1, s0, s1, vmz, flo, fhi)), nr);\n`,
        )
        .join('');
      o += '}\n';
      return o;
    },
  };
}

/**
 * Depthwise 3x3 family (assembly/q8_dwconv.ts): one pixel × c channels (16 or 8), the 9
 * taps in 5 pairs (2P, 2P+1; tap 8 pairs with itself against a zero weight): the pair's
 * bytes interleave (lo16/hi16) so that one i32x4.dot_i16x8_s gives 4 channels × 2 taps,
 * as XNNPACK's qs8 "9p16c" depthwise microkernels step over their taps. 16 channels: a run
 * of output pixels of one row, the weights widened once into kPQ (pair P, channels
 * 4Q..4Q+3), tap t read when bit t of `valid` is set, else the zero point vpad (all 9 bits:
 * every tap in the image, at p + ky·rs + kx·cs, loaded without checks). 8 channels: one
 * pixel, every tap inside, the weights widened from the tap-pair rows at w, ws bytes apart
 * (uint8: minus vzw).
 */
function dwconv(c: 16 | 8): Microkernel {
  const regs = c === 16;
  const name = `q8_dwconv_rq_${c}c9p__wasmsimd`;
  const quads = range(c / 4);
  const tapAddr = (t: number) => {
    const ky = Math.floor(t / 3),
      kx = t % 3;
    return ['p', ky ? (ky > 1 ? `${ky} * rs` : 'rs') : '', kx ? (kx > 1 ? `${kx} * cs` : 'cs') : '']
      .filter(Boolean)
      .join(' + ');
  };
  const inside = (t: number) => (c === 16 ? `v128.load(${tapAddr(t)})` : `v128.load64_zero(${tapAddr(t)})`);
  const outside = (t: number) => `tapBytes(p, cs, rs, valid, ${t}, ${c}, vpad)`;
  const weight = (P: number, q: number) => (regs ? `k${P}${q}` : `wload<T>(wp${q ? ` + ${8 * q}` : ''}, vzw)`);
  const pairs = (load: (t: number) => string, ind: string) =>
    range(5)
      .map((P) => {
        const ta = 2 * P;
        let o = `${ind}// pair ${P}: taps ${ta}${P < 4 ? ` and ${ta + 1}` : ' with a zero-weight partner (its own bytes again)'}\n${ind}{\n`;
        o += `${ind}  const xa = ${load(ta)};\n${ind}  const xb = ${P < 4 ? load(ta + 1) : 'xa'};\n`;
        o += `${ind}  const l = lo16(xa, xb);\n`;
        if (c === 16) o += `${ind}  const h = hi16(xa, xb);\n`;
        for (const q of quads)
          o += `${ind}  a${q} = i32x4.add(a${q}, i32x4.dot_i16x8_s(ext8${q % 2 ? 'hi' : 'lo'}<T>(${q < 2 ? 'l' : 'h'}), ${weight(P, q)}));\n`;
        if (!regs && P < 4) o += `${ind}  wp += ws;\n`;
        return o + `${ind}}\n`;
      })
      .join('');
  const pixel = (ind: string) => {
    let o = quads.map((q) => `${ind}let a${q} = v128.load(bp${q ? `, ${16 * q}` : ''});\n`).join('');
    if (regs)
      o += `${ind}if (valid == 0x1ff) {\n${pairs(inside, ind + '  ')}${ind}} else {\n${pairs(outside, ind + '  ')}${ind}}\n`;
    else o += `${ind}let wp = w;\n` + pairs(inside, ind);
    o += `${ind}const v0 = requant8(a0, a1, v128.load(sp), v128.load(sp, 16), vmz, flo, fhi);\n`;
    if (c === 16) {
      o += `${ind}const v1 = requant8(a2, a3, v128.load(sp, 32), v128.load(sp, 48), vmz, flo, fhi);\n`;
      o += `${ind}if (isSigned<T>()) v128.store(yp, i8x16.narrow_i16x8_s(v0, v1));\n${ind}else v128.store(yp, i8x16.narrow_i16x8_u(v0, v1));\n`;
    } else o += `${ind}v128.store64_lane(yp, narrowBytes<T>(v0), 0);\n`;
    return o;
  };
  return {
    name,
    source() {
      let o = IMPORTS + `import { hi16, lo16, tapBytes, tapColumns } from '../q8_common';\n\n`;
      if (!regs) {
        o += `/** Depthwise 3x3 of one pixel × 8 channels, every tap inside, weights widened from memory, requantized to bytes (template: src/kernels/schema/templates.ts). */\n`;
        o += `// @ts-ignore: decorator\n@inline export function ${name}<T>(p: usize, cs: usize, rs: usize, w: usize, ws: usize, bp: usize, sp: usize, yp: usize, vmz: v128, flo: v128, fhi: v128, vzw: v128): void {\n`;
        return o + pixel('  ') + '}\n';
      }
      o += `/**
 * Depthwise 3x3 of output pixels [ox0, ox1) of one row × C ≥ 16 channels in groups of 16 (the
 * last one overlapping when C % 16 ≠ 0, same values), requantized to bytes (template:
 * src/kernels/schema/templates.ts). A group's 20 weight vectors widen once per row. Pixels
 * in [fastLo, fastHi) have every tap inside the image and load without checks; the others
 * read tap t when bit t of rowMask and of its columns' mask is set, else the zero point vpad.
 * xrow: tap row 0 of the row in the input window (first column xc0); yrow: the output row.
 */
`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}<T>(C: i32, xrow: usize, xc0: i32, yrow: usize, ox0: i32, ox1: i32, sw: i32, pl: i32, dw: i32, W: i32, rowMask: i32, fastLo: i32, fastHi: i32, cs: usize, rs: usize, w: usize, ws: usize, b: usize, s: usize, vpad: v128, vmz: v128, flo: v128, fhi: v128, vzw: v128): void {\n`;
      o += `  const Cu = <usize>C;\n  for (let c = 0; c < C; c += 16) {\n    const cb = <usize>min(c, C - 16);\n    const wq = w + (cb << 1);\n`;
      o += `    const ${range(5)
        .flatMap((P) =>
          range(4).map((q) => `k${P}${q} = wload<T>(wq${P ? ` + ${P} * ws` : ''}${q ? ` + ${8 * q}` : ''}, vzw)`),
        )
        .join(',\n      ')};\n`;
      o += `    const bp = b + (cb << 2),\n      sp = s + (cb << 2);\n`;
      o += `    for (let ox = ox0; ox < ox1; ox++) {\n      const ix0 = ox * sw - pl;\n`;
      o += `      const p = xrow + <usize>(ix0 - xc0) * Cu + cb;\n      const yp = yrow + <usize>(ox - ox0) * Cu + cb;\n`;
      o += `      const valid = ox >= fastLo && ox < fastHi ? 0x1ff : rowMask & tapColumns(ix0, dw, W);\n`;
      o += pixel('      ');
      o += `    }\n  }\n}\n`;
      return o;
    },
  };
}

const F32_IMPORTS = `import { clamp4, loadPartial, loadPartial8lo, loadPartial8hi, storePartial, storePartial8 } from '../common';
`;

/**
 * f32 reduction of one run of L inputs for mr rows: per input, the 8 weights of the panel
 * (32 bytes) times the row's input broadcast. One input per iteration on purpose: unrolled
 * bodies let TurboFan hoist every load of the body ahead of the arithmetic, and the extra
 * live vectors spill (measured: a 2x unroll and 5- or 6-row blocks were all 10-20% slower
 * than the 4x8 loop).
 */
function f32kLoop(mr: number, L: string, ind: string): string {
  const rows = range(mr);
  let o = `${ind}for (let k = 0; k < ${L}; k++) {\n${ind}  const w0 = v128.load(wp),\n${ind}    w1 = v128.load(wp, 16);\n`;
  o += rows
    .map(
      (m) =>
        `${ind}  ${m ? '' : 'let '}v = v128.load32_splat(a${m});\n` +
        `${ind}  c${m}0 = f32x4.add(c${m}0, f32x4.mul(v, w0));\n${ind}  c${m}1 = f32x4.add(c${m}1, f32x4.mul(v, w1));\n`,
    )
    .join('');
  o += rows.map((m) => `${ind}  a${m} += 4;\n`).join('') + `${ind}  wp += 32;\n${ind}}\n`;
  return o;
}

/** f32 store of row m's 8 channels (nr of them) at p: whole vectors, or partial. */
const f32Store = (rows: number[], addr: (m: number) => string, ind: string) =>
  `${ind}if (nr == 8) {\n` +
  rows.map((m) => `${ind}  v128.store(${addr(m)}, c${m}0);\n${ind}  v128.store(${addr(m)}, c${m}1, 16);\n`).join('') +
  `${ind}} else {\n` +
  rows.map((m) => `${ind}  storePartial8(${addr(m)}, c${m}0, c${m}1, nr);\n`).join('') +
  `${ind}}\n`;

const f32Clamp = (rows: number[], ind: string) =>
  rows.map((m) => `${ind}c${m}0 = clamp4(c${m}0, vlo, vhi);\n${ind}c${m}1 = clamp4(c${m}1, vlo, vhi);\n`).join('');

/** f32 accumulators of every row from the bias (nr channels) or zero. */
const f32FromBias = (rows: number[], ind: string) =>
  `${ind}if (b) {\n${ind}  c00 = loadPartial8lo(b + cb, nr);\n${ind}  c01 = loadPartial8hi(b + cb, nr);\n${ind}} else {\n${ind}  c00 = f32x4.splat(0);\n${ind}  c01 = c00;\n${ind}}\n` +
  rows
    .slice(1)
    .map((m) => `${ind}c${m}0 = c00;\n${ind}c${m}1 = c01;\n`)
    .join('');

/**
 * f32 GEMM family (assembly/gemm.ts, packGemm1x1 panels of 8 channels, 32 bytes per input):
 * mr rows (x, xs bytes apart; rows past `last` alias the last one, so a short block stores
 * the same values twice, highest row first) × N channels, panels ps bytes apart;
 * y = clamp((accumulate ? y : b|0) + x·W + res), y and res rows ys bytes apart.
 */
function f32gemm(mr: number): Microkernel {
  const name = `f32_gemm_${mr}x8__wasmsimd`;
  const rows = range(mr);
  return {
    name,
    source() {
      let o = F32_IMPORTS + '\n';
      o += `/** f32 GEMM of ${mr} rows × N channels with bias, accumulation, residual and clamp (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}(x: usize, xs: usize, last: i32, K: i32, w: usize, ps: usize, N: i32, b: usize, y: usize, ys: usize, res: usize, vlo: v128, vhi: v128, accumulate: i32): void {\n`;
      for (const m of rows) o += `  const x${m} = x + ${rowOff(m)} * xs;\n  const y${m} = y + ${rowOff(m)} * ys;\n`;
      o += `  let wn = w;\n  for (let n0 = 0; n0 < N; n0 += 8) {\n    const nr = min(8, N - n0);\n    const cb = (<usize>n0) << 2;\n`;
      o += `    let ${rows.map((m) => `c${m}0: v128, c${m}1: v128`).join(', ')};\n`;
      o += `    if (accumulate) {\n      if (nr == 8) {\n`;
      o += rows
        .map((m) => `        c${m}0 = v128.load(y${m} + cb);\n        c${m}1 = v128.load(y${m} + cb, 16);\n`)
        .join('');
      o += `      } else {\n`;
      o += rows
        .map(
          (m) => `        c${m}0 = loadPartial8lo(y${m} + cb, nr);\n        c${m}1 = loadPartial8hi(y${m} + cb, nr);\n`,
        )
        .join('');
      o += `      }\n    } else {\n${f32FromBias(rows, '      ')}    }\n`;
      o += rows.map((m) => `    let a${m} = x${m};\n`).join('') + `    let wp = wn;\n`;
      o += f32kLoop(mr, 'K', '    ');
      o += `    if (res) {\n      if (nr == 8) {\n`;
      o += rows
        .map(
          (m) =>
            `        c${m}0 = f32x4.add(c${m}0, v128.load(res + (y${m} - y) + cb));\n        c${m}1 = f32x4.add(c${m}1, v128.load(res + (y${m} - y) + cb, 16));\n`,
        )
        .join('');
      o += `      } else {\n`;
      o += rows
        .map(
          (m) =>
            `        c${m}0 = f32x4.add(c${m}0, loadPartial8lo(res + (y${m} - y) + cb, nr));\n        c${m}1 = f32x4.add(c${m}1, loadPartial8hi(res + (y${m} - y) + cb, nr));\n`,
        )
        .join('');
      o += `      }\n    }\n` + f32Clamp(rows, '    ');
      o += `    // Highest row first: when rows alias every alias holds the same values.\n`;
      o += f32Store([...rows].reverse(), (m) => `y${m} + cb`, '    ');
      o += `    wn += ps;\n  }\n}\n`;
      return o;
    },
  };
}

/**
 * f32 convolution family (assembly/conv.ts): mr output pixels in a row (pixStep bytes apart
 * in the input), all taps inside the input; the reduction runs over kh kernel rows (rowStep
 * apart) of `runs` runs (tapStep apart) of `run` contiguous inputs, through the OC channels'
 * panels; y0: the first pixel's OC outputs, pixels OC floats apart.
 */
function f32conv(mr: number): Microkernel {
  const name = `f32_conv_${mr}x8__wasmsimd`;
  const rows = range(mr);
  return {
    name,
    source() {
      let o = F32_IMPORTS + '\n';
      o += `/** f32 convolution of ${mr} pixels × OC channels (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}(a0: usize, pixStep: usize, rowStep: usize, tapStep: usize, kh: i32, runs: i32, run: i32, y0: usize, OC: i32, w: usize, b: usize, vlo: v128, vhi: v128): void {\n`;
      o += `  const ys = (<usize>OC) << 2;\n  let wp = w; // the loops below walk each panel completely, so wp ends at the next one\n`;
      o += `  for (let n0 = 0; n0 < OC; n0 += 8) {\n    const nr = min(8, OC - n0);\n    const cb = (<usize>n0) << 2;\n`;
      o += `    let ${rows.map((m) => `c${m}0: v128, c${m}1: v128`).join(', ')};\n`;
      o += f32FromBias(rows, '    ');
      o += `    let rowp = a0;\n    for (let ky = 0; ky < kh; ky++) {\n      let tapp = rowp;\n      for (let r = 0; r < runs; r++) {\n`;
      o += rows.map((m) => `        let a${m} = tapp${m ? ` + ${m} * pixStep` : ''};\n`).join('');
      o += f32kLoop(mr, 'run', '        ');
      o += `        tapp += tapStep;\n      }\n      rowp += rowStep;\n    }\n`;
      o += f32Clamp(rows, '    ');
      o += f32Store(rows, (m) => `y0 + ${m ? `${m} * ys + ` : ''}cb`, '    ');
      o += `  }\n}\n`;
      return o;
    },
  };
}

/**
 * f32 depthwise 3x3 family (assembly/dwconv.ts, packDepthwise3x3 groups of 4 channels × 9
 * taps, 144 bytes): one output pixel whose 9 taps are all inside the input, channels 8 at a
 * time, then 4 at a time. r0, r1, r2 point at channel 0 of the left tap in each of the 3
 * input rows; cs is the byte distance between taps in a row. Row pointers (not nine tap
 * pointers) keep V8 from spilling general registers; the partial stores after each row
 * force the products of that row to be computed before the next row's loads (TurboFan
 * schedules pure arithmetic late, which otherwise keeps all 36 loaded vectors live at once
 * and spills them).
 */
function f32dwconv(): Microkernel {
  const name = 'f32_dwconv_9p8c__wasmsimd';
  const tap = (ky: number, kx: number) => `r${ky}${kx ? (kx > 1 ? ' + cs2' : ' + cs') : ''}`;
  return {
    name,
    source() {
      let o = F32_IMPORTS + '\n';
      o += `// @ts-ignore: decorator\n@inline const GROUP_BYTES: usize = 144;\n\n`;
      o += `/** f32 depthwise 3x3 of one pixel, every tap inside (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}(r0: usize, r1: usize, r2: usize, cs: usize, w: usize, b: usize, y: usize, C: i32, vlo: v128, vhi: v128): void {\n`;
      o += `  let c = 0;\n  let wp = w;\n  let yp = y;\n  let bp = b;\n  const cs2 = cs << 1;\n`;
      o += `  for (; c + 8 <= C; c += 8) {\n    let a0: v128, a1: v128;\n`;
      o += `    if (b) {\n      a0 = v128.load(bp);\n      a1 = v128.load(bp, 16);\n      bp += 32;\n    } else {\n      a0 = f32x4.splat(0);\n      a1 = a0;\n    }\n`;
      for (const ky of range(3)) {
        for (const kx of range(3)) {
          const t = ky * 3 + kx;
          o += `    ${ky || kx ? '' : 'let '}q = ${tap(ky, kx)};\n`;
          o += `    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, ${16 * t})));\n`;
          o += `    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, ${144 + 16 * t})));\n`;
        }
        o +=
          ky < 2
            ? `    v128.store(yp, a0);\n    v128.store(yp, a1, 16);\n`
            : `    v128.store(yp, clamp4(a0, vlo, vhi));\n    v128.store(yp, clamp4(a1, vlo, vhi), 16);\n`;
      }
      o += `    r0 += 32;\n    r1 += 32;\n    r2 += 32;\n    wp += 2 * GROUP_BYTES;\n    yp += 32;\n  }\n`;
      o += `  for (; c < C; c += 4) {\n    const n = min(4, C - c);\n    let a = b ? loadPartial(bp, n) : f32x4.splat(0);\n`;
      for (const ky of range(3))
        for (const kx of range(3))
          o += `    a = f32x4.add(a, f32x4.mul(loadPartial(${tap(ky, kx)}, n), v128.load(wp, ${16 * (ky * 3 + kx)})));\n`;
      o += `    storePartial(yp, clamp4(a, vlo, vhi), n);\n    r0 += 16;\n    r1 += 16;\n    r2 += 16;\n    wp += GROUP_BYTES;\n    yp += 16;\n    bp += 16;\n  }\n}\n`;
      return o;
    },
  };
}

/**
 * Fused resize + arg-max of one output column (assembly/q8_resize.ts), C ≤ 8·groups classes:
 * the horizontal step of TFLite's 11-bit bilinear interpolation, t = (l << 11) + (r − l)·ah on
 * the column's two source rows, is computed once per source row pair and kept in registers
 * as (t_top << 11) + 2^21 and t_bottom − t_top, so each output pixel runs only the vertical
 * step, v = (T + D·av) >> 22, and the ranking key (v << 8) + (255 − class) (lanes past C: the
 * minimum, their T and D zeroed so v = 0). The same int32 expressions as the row-major path.
 */
function ibilinearArgmax(groups: number): Microkernel {
  const name = `q8_ibilinear_argmax_${8 * groups}c__wasmsimd`;
  const halves = range(2 * groups);
  return {
    name,
    source() {
      let o = `import { bytes8, tap, tapI0, tapI1 } from '../q8_taps';\n\n`;
      o += `/** Resize + arg-max of one output column, ${8 * groups} channel lanes (template: src/kernels/schema/templates.ts). */\n`;
      o += `// @ts-ignore: decorator\n@inline export function ${name}<T>(x: usize, rowBytes: usize, c0: usize, c1: usize, C: i32, ah: v128, H: i32, OH: i32, scY: f32, offY: f32, half: bool, y: usize, ys: usize, ids: i32): void {\n`;
      o += `  const rnd = i32x4.splat(1 << 21),\n    none = i32x4.splat(i32.MIN_VALUE),\n    vC = i32x4.splat(C);\n`;
      for (const h of halves) {
        o += `  const i${h} = i32x4(${4 * h}, ${4 * h + 1}, ${4 * h + 2}, ${4 * h + 3}),\n    m${h} = i32x4.lt_s(i${h}, vC),\n`;
        o += `    k${h} = v128.bitselect(i32x4.sub(i32x4.splat(255), i${h}), none, m${h});\n`;
        o += `  let t${h} = rnd,\n    d${h} = rnd;\n`;
      }
      o += `  let prev0 = -1,\n    prev1 = -1;\n`;
      o += `  for (let oy = 0; oy < OH; oy++) {\n    const av = i32x4.splat(tap(oy, H, scY, offY, half));\n`;
      o += `    if (tapI0 != prev0 || tapI1 != prev1) {\n      prev0 = tapI0;\n      prev1 = tapI1;\n`;
      o += `      const ra = x + <usize>tapI0 * rowBytes,\n        rb = x + <usize>tapI1 * rowBytes;\n`;
      for (let g = 0; g < groups; g++) {
        const off = g ? ` + ${8 * g}` : '';
        o += `      {\n        const m = min(8, C - ${8 * g});\n`;
        o += `        const tl = bytes8<T>(ra + c0${off}, m),\n          tr = bytes8<T>(ra + c1${off}, m),\n          bl = bytes8<T>(rb + c0${off}, m),\n          br = bytes8<T>(rb + c1${off}, m);\n`;
        for (const [h, ext] of [
          [2 * g, 'low'],
          [2 * g + 1, 'high'],
        ] as const) {
          const e = (v: string) => `i32x4.extend_${ext}_i16x8_s(${v})`;
          o += `        {\n          const l = ${e('tl')},\n            u = ${e('bl')};\n`;
          o += `          const t = i32x4.add(i32x4.shl(l, 11), i32x4.mul(i32x4.sub(${e('tr')}, l), ah));\n`;
          o += `          const b = i32x4.add(i32x4.shl(u, 11), i32x4.mul(i32x4.sub(${e('br')}, u), ah));\n`;
          o += `          t${h} = v128.bitselect(i32x4.add(i32x4.shl(t, 11), rnd), rnd, m${h});\n`;
          o += `          d${h} = v128.and(i32x4.sub(b, t), m${h});\n        }\n`;
        }
        o += `      }\n`;
      }
      o += `    }\n`;
      const key = (h: number) =>
        `i32x4.add(i32x4.shl(i32x4.shr_s(i32x4.add(t${h}, i32x4.mul(d${h}, av)), 22), 8), k${h})`;
      o += `    let best = ${key(0)};\n`;
      for (const h of halves.slice(1)) o += `    best = i32x4.max_s(best, ${key(h)});\n`;
      o += `    best = i32x4.max_s(best, i32x4.shuffle(best, best, 2, 3, 0, 1));\n`;
      o += `    best = i32x4.max_s(best, i32x4.shuffle(best, best, 1, 0, 3, 2));\n`;
      o += `    const cls = 255 - (i32x4.extract_lane(best, 0) & 255);\n`;
      o += `    if (ids == 4) store<i32>(y + <usize>oy * ys, cls);\n    else store<u8>(y + <usize>oy * ys, <u8>cls);\n  }\n}\n`;
      return o;
    },
  };
}

export const MICROKERNELS: readonly Microkernel[] = [
  f32gemm(4),
  f32conv(4),
  f32dwconv(),
  dwconv(16),
  dwconv(8),
  gemm('rq', 4),
  gemm('rq', 1),
  gemm('acc', 4),
  gemm('acc', 1),
  conv(4),
  ibilinearArgmax(1),
  ibilinearArgmax(2),
  ibilinearArgmax(3),
  ibilinearArgmax(4),
];
