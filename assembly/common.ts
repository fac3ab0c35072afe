// Shared helpers for the f32 kernels: clamping and partial (1..4 lane) loads/stores,
// used at channel tails so that no kernel touches a byte outside its buffers.

/** Clamp each lane to [lo, hi]. pmax/pmin map to single maxps/minps on x86 (no NaN fix-up). */
@inline export function clamp4(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}


@inline export function clamp1(v: f32, lo: f32, hi: f32): f32 {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

/** Load n (1..4) floats from p into the low lanes; other lanes are zero. Reads exactly 4·n bytes. */
@inline export function loadPartial(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 1) return v128.load32_zero(p);
  let v = v128.load64_zero(p);
  if (n == 3) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Store the low n (1..4) lanes of v at p. Writes exactly 4·n bytes. */
@inline export function storePartial(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n & 2) {
    v128.store64_lane(p, v, 0);
    if (n & 1) v128.store32_lane(p, v, 2, 8);
  } else {
    v128.store32_lane(p, v, 0);
  }
}

/** Load n (0..8) floats as two vectors (lanes past n are zero). */
@inline export function loadPartial8lo(p: usize, n: i32): v128 {
  return n <= 0 ? f32x4.splat(0) : loadPartial(p, n);
}


@inline export function loadPartial8hi(p: usize, n: i32): v128 {
  return n <= 4 ? f32x4.splat(0) : loadPartial(p + 16, n - 4);
}


@inline export function storePartial8(p: usize, v0: v128, v1: v128, n: i32): void {
  if (n >= 8) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
    return;
  }
  if (n <= 4) {
    storePartial(p, v0, n);
    return;
  }
  v128.store(p, v0);
  storePartial(p + 16, v1, n - 4);
}

/** Lane j (0..3, a constant after inlining) of v as T (f32 or i32): extract_lane wants an immediate index. */
// @ts-ignore: decorator
@inline export function lane<T>(v: v128, j: i32): T {
  return j == 0
    ? v128.extract_lane<T>(v, 0)
    : j == 1
      ? v128.extract_lane<T>(v, 1)
      : j == 2
        ? v128.extract_lane<T>(v, 2)
        : v128.extract_lane<T>(v, 3);
}

/** Channels 4..7 of the last dot8 (AssemblyScript functions return one value). */
export let dot8Hi: v128 = f32x4.splat(0);

/**
 * (a0, a1) + Σ over n inputs of x[k] · w[k][0..7]: x is n floats, w 8 floats (32 bytes) per
 * input, as the f32 GEMM and convolution panels store them. Returns channels 0..3; channels
 * 4..7 are in dot8Hi.
 */
// @ts-ignore: decorator
@inline export function dot8(xp: usize, wp: usize, n: i32, a0: v128, a1: v128): v128 {
  for (let k = 0; k < n; k++) {
    const v = v128.load32_splat(xp);
    a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp)));
    a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp, 16)));
    xp += 4;
    wp += 32;
  }
  dot8Hi = a1;
  return a0;
}
