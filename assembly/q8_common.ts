// Shared pieces of the q8 (uint8 / int8) kernels.
//
// Activations are bytes, unsigned (T = u8: TF1 uint8 models) or signed (T = i8: TF2
// int8 models); every kernel is generic over T and the exported wrappers pick the
// instance from a `sg` flag, so the byte interpretation is decided at compile time.
//
// Requantization (fixtures/reference/README.md, XNNPACK's fp32 requantization):
//   y = clamp(rint_half_even(f32(acc) · s[n]) + z, lo, hi)
// with s[n] the per-channel float32 multiplier; `f32x4.convert_i32x4_s` is f32(acc) and
// requant8 rounds half to even with the float magic-bias addition and clamps in integers
// (see there).
//
// Output parameter block `rq` (Q8_RQ in src/kernels/schema/structs.ts, 12 i32 = 48 bytes; offsets in gen/abi.ts):
//   0 z   1 lo   2 hi              requantization of the op's own output
//   3 residual (0/1): when 1, the value above is the projection P of an inverted
//     residual block and the stored y is ADD(P, res) with XNNPACK's fixed-point add:
//   4 zRes  5 mP  6 mRes  7 shift  8 zY  9 loY  10 hiY
//     y = clamp(((mP·(P − z) + mRes·(res − zRes) + 2^(shift−1)) >> shift) + zY, loY, hiY)
//   11 zw: the zero point of uint8 weights; int8 weights are packed with theirs
//     subtracted (0 in TFLite files) and the kernels ignore this word.
//
// Packed weights are one byte each (src/kernels/q8_pack.ts): 8 bytes widen to an int16
// vector in registers (i16x8.load8x8), the operand of i32x4.dot_i16x8_s, as in XNNPACK's
// qs8/qu8 WASM SIMD kernels. The weight zero point of uint8 weights is taken out of the
// sums after the widening: the conv and depthwise kernels subtract it from each widened
// vector (wload), the GEMM takes zw·Σx out of each row's sum (q8_gemm.ts).
import { Q8_RQ_HI, Q8_RQ_LO, Q8_RQ_Z, Q8_RQ_ZW } from './gen/abi';

/** i16x8 from the low 8 bytes of v, extended by T's signedness. */
// @ts-ignore: decorator
@inline export function ext8lo<T>(v: v128): v128 {
  if (isSigned<T>()) return i16x8.extend_low_i8x16_s(v);
  return i16x8.extend_low_i8x16_u(v);
}

// @ts-ignore: decorator
@inline export function ext8hi<T>(v: v128): v128 {
  if (isSigned<T>()) return i16x8.extend_high_i8x16_s(v);
  return i16x8.extend_high_i8x16_u(v);
}

/** 8 bytes at p as i16x8. */
// @ts-ignore: decorator
@inline export function load8x8<T>(p: usize): v128 {
  if (isSigned<T>()) return v128.load8x8_s(p);
  return v128.load8x8_u(p);
}

/** The uint8 weight zero point of an `rq` block as an i16x8 splat (unused for int8). */
// @ts-ignore: decorator
@inline export function rqZw<T>(rq: usize): v128 {
  if (isSigned<T>()) return i16x8.splat(0);
  return i16x8.splat(<i16>load<i32>(rq, Q8_RQ_ZW));
}

/**
 * 8 packed weight bytes at p as int16 w − zw: int8 bytes are stored with the zero point
 * subtracted and only widen; uint8 bytes widen and subtract vzw (rqZw).
 */
// @ts-ignore: decorator
@inline export function wload<T>(p: usize, vzw: v128): v128 {
  if (isSigned<T>()) return v128.load8x8_s(p);
  return i16x8.sub(v128.load8x8_u(p), vzw);
}

/** One packed weight byte at p as w − zw (scalar wload). */
// @ts-ignore: decorator
@inline export function wloadq<T>(p: usize, zw: i32): i32 {
  if (isSigned<T>()) return <i32>load<i8>(p);
  return <i32>load<u8>(p) - zw;
}

/** One byte at p as a signed or unsigned integer. */
// @ts-ignore: decorator
@inline export function loadq<T>(p: usize): i32 {
  if (isSigned<T>()) return <i32>load<i8>(p);
  return <i32>load<u8>(p);
}

/**
 * The pair (x[p], x[p+1]) in every i32 lane as two i16: [a, b, a, b, ...], the
 * operand layout of i32x4.dot_i16x8_s against weights packed as channel-major pairs.
 */
// @ts-ignore: decorator
@inline export function pair<T>(p: usize): v128 {
  return ext8lo<T>(v128.load16_splat(p));
}

/** (x[p], x[p]) in every i32 lane, for an odd tail whose pair partner weight is 0. */
// @ts-ignore: decorator
@inline export function single<T>(p: usize): v128 {
  return ext8lo<T>(v128.load8_splat(p));
}

/** 1.5·2^23: adding it to a float32 of magnitude < 2^22 leaves rint_half_even(v) in the low mantissa bits. */
// @ts-ignore: decorator
@inline export const MAGIC: f32 = 12582912.0;
// @ts-ignore: decorator
@inline export const MAGIC_BITS: i32 = 0x4b400000;

/**
 * The three vectors requant8 takes: rqLo, bits(1.5·2^23) + (lo − z), the lower bound in the
 * magic-biased integer domain; rqHi, hi as an i16x8 splat; rqMz, bits(1.5·2^23) − z.
 */
// @ts-ignore: decorator
@inline export function rqLo(rq: usize): v128 {
  return i32x4.splat(MAGIC_BITS + load<i32>(rq, Q8_RQ_LO) - load<i32>(rq, Q8_RQ_Z));
}
// @ts-ignore: decorator
@inline export function rqHi(rq: usize): v128 {
  return i16x8.splat(<i16>load<i32>(rq, Q8_RQ_HI));
}
// @ts-ignore: decorator
@inline export function rqMz(rq: usize): v128 {
  return i32x4.splat(MAGIC_BITS - load<i32>(rq, Q8_RQ_Z));
}

/**
 * Requantize 8 channels (acc a0 = channels 0..3, a1 = 4..7; multipliers s0, s1) to i16x8
 * values in [lo, hi], XNNPACK's fp32 "magic" requantization with the clamps in integers:
 * f = f32(acc)·s; adding 1.5·2^23 rounds f half to even into the low mantissa bits when
 * |f| < 2^22, so bits(f + 1.5·2^23) = bits(1.5·2^23) + rint(f). The float's bits grow with
 * it for every f (negative sums far below the range turn negative as integers), so one
 * signed max against bits(1.5·2^23) + (lo − z) is the lower clamp for every f, the
 * subtraction of bits(1.5·2^23) − z adds z, the saturating narrow keeps what is far above
 * the range above it, and one i16 min is the upper clamp (integer bounds: clamping before or
 * after rounding is the same). vlo, vhi, vmz come from rqLo/rqHi/rqMz.
 */
// @ts-ignore: decorator
@inline export function requant8(a0: v128, a1: v128, s0: v128, s1: v128, vmz: v128, vlo: v128, vhi: v128): v128 {
  const m = f32x4.splat(MAGIC);
  const f0 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a0), s0), m);
  const f1 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a1), s1), m);
  const i0 = i32x4.sub(i32x4.max_s(f0, vlo), vmz);
  const i1 = i32x4.sub(i32x4.max_s(f1, vlo), vmz);
  return i16x8.min_s(i16x8.narrow_i32x4_s(i0, i1), vhi);
}

/** i16x8 in range → 8 bytes in the low half (u8 or i8 by T). */
// @ts-ignore: decorator
@inline export function narrowBytes<T>(v: v128): v128 {
  if (isSigned<T>()) return i8x16.narrow_i16x8_s(v, v);
  return i8x16.narrow_i16x8_u(v, v);
}

/** Store the low n (1..8) bytes of v at p; writes exactly n bytes. */
// @ts-ignore: decorator
@inline export function storeBytes(p: usize, v: v128, n: i32): void {
  if (n >= 8) {
    v128.store64_lane(p, v, 0);
    return;
  }
  let u = i64x2.extract_lane(v, 0);
  for (let i = 0; i < n; i++) {
    store<u8>(p + <usize>i, <u8>u);
    u >>= 8;
  }
}

/** Load n (1..8) bytes at p into the low lanes (others zero); reads exactly n bytes. */
// @ts-ignore: decorator
@inline export function loadBytes(p: usize, n: i32): v128 {
  if (n >= 8) return v128.load64_zero(p);
  let u: u64 = 0;
  for (let i = n - 1; i >= 0; i--) u = (u << 8) | (<u64>load<u8>(p + <usize>i));
  return i64x2.splat(<i64>u);
}

/**
 * One row's 8 channels: requantize, optional residual add (XNNPACK's fixed-point ADD of the
 * requantized projection and the residual bytes), store nr bytes. c0, c1: int32
 * accumulators; s0, s1: multipliers; rp: residual pointer (channel n0).
 */
// @ts-ignore: decorator
@inline export function epilogue<T>(
  c0: v128,
  c1: v128,
  s0: v128,
  s1: v128,
  vmz: v128,
  flo: v128,
  fhi: v128,
  res: bool,
  rp: usize,
  yp: usize,
  nr: i32,
  vzP: v128,
  vzR: v128,
  vmP: v128,
  vmR: v128,
  vrnd: v128,
  shift: i32,
  vzY: v128,
  vloY: v128,
  vhiY: v128,
): void {
  let v = requant8(c0, c1, s0, s1, vmz, flo, fhi);
  if (res) {
    // Residual add of the 8 requantized projection values P with the 8 residual bytes r.
    const r = ext8lo<T>(loadBytes(rp, nr));
    const p0 = i32x4.sub(i32x4.extend_low_i16x8_s(v), vzP);
    const p1 = i32x4.sub(i32x4.extend_high_i16x8_s(v), vzP);
    const r0 = i32x4.sub(i32x4.extend_low_i16x8_s(r), vzR);
    const r1 = i32x4.sub(i32x4.extend_high_i16x8_s(r), vzR);
    let a0 = i32x4.add(i32x4.add(i32x4.mul(p0, vmP), i32x4.mul(r0, vmR)), vrnd);
    let a1 = i32x4.add(i32x4.add(i32x4.mul(p1, vmP), i32x4.mul(r1, vmR)), vrnd);
    a0 = i32x4.add(i32x4.min_s(i32x4.max_s(i32x4.shr_s(a0, shift), vloY), vhiY), vzY);
    a1 = i32x4.add(i32x4.min_s(i32x4.max_s(i32x4.shr_s(a1, shift), vloY), vhiY), vzY);
    v = i16x8.narrow_i32x4_s(a0, a1);
  }
  storeBytes(yp, narrowBytes<T>(v), nr);
}

/**
 * zw·Σ_k x[k] over one row of K bytes, splatted: what uint8 weights with zero point zw take
 * from the row's accumulators (Σ x·(w − zw) = Σ x·w − zw·Σ x); zero for int8 weights,
 * which are packed with their zero point subtracted. Reads exactly the K bytes.
 */
// @ts-ignore: decorator
@inline export function rowCorr<T>(xp: usize, K: i32, zw: i32): v128 {
  if (isSigned<T>()) return i32x4.splat(0);
  let v = i32x4.splat(0);
  let k = 0;
  for (; k + 16 <= K; k += 16)
    v = i32x4.add(v, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(xp + <usize>k))));
  let t = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  for (; k < K; k++) t += <i32>load<u8>(xp + <usize>k);
  return i32x4.splat(zw * t);
}

/** Bytes 0..7 of a and b interleaved: the tap pairs of 8 channels (depthwise: a, b are two taps). */
// @ts-ignore: decorator
@inline export function lo16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
// @ts-ignore: decorator
@inline export function hi16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/** Bytes of tap t (0..8) of a pixel: n (1..16) channels, or the zero point when the tap is outside. */
// @ts-ignore: decorator
@inline export function tapBytes(p: usize, cs: usize, rs: usize, valid: i32, t: i32, n: i32, vpad: v128): v128 {
  if (!((valid >> t) & 1)) return vpad;
  const q = p + <usize>(t / 3) * rs + <usize>(t % 3) * cs;
  if (n >= 16) return v128.load(q);
  if (n <= 8) return loadBytes(q, n);
  return i64x2.replace_lane(v128.load64_zero(q), 1, i64x2.extract_lane(loadBytes(q + 8, n - 8), 0));
}

/** Bits kx, kx + 3, kx + 6 (the taps of kernel column kx) of each column ix0 + kx·dw inside [0, W). */
// @ts-ignore: decorator
@inline export function tapColumns(ix0: i32, dw: i32, W: i32): i32 {
  let m = 0;
  for (let kx = 0; kx < 3; kx++) {
    const ix = ix0 + kx * dw;
    if (ix >= 0 && ix < W) m |= 0x49 << kx;
  }
  return m;
}
