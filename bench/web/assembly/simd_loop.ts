// Plain WebAssembly SIMD multiply-accumulate loops with no lowwater code in them: the
// yardstick for how fast a runtime runs SIMD code (bench/web_runtimes.ts times them in
// Node and in Chromium next to the real kernels). Four independent accumulators, as the
// q8 GEMM's inner loop has, so the loop is bound by the multiplies, not by one add chain.

/** Lanes of Σ over `reps` passes of i32x4.dot_i16x8_s(a[i], b[i]), i over n bytes (n a multiple of 64). */
export function mac_i16(a: usize, b: usize, n: i32, reps: i32): i32 {
  let c0 = i32x4.splat(0),
    c1 = i32x4.splat(0),
    c2 = i32x4.splat(0),
    c3 = i32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i += 64) {
      const pa = a + <usize>i,
        pb = b + <usize>i;
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(pa, 0), v128.load(pb, 0)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load(pa, 16), v128.load(pb, 16)));
      c2 = i32x4.add(c2, i32x4.dot_i16x8_s(v128.load(pa, 32), v128.load(pb, 32)));
      c3 = i32x4.add(c3, i32x4.dot_i16x8_s(v128.load(pa, 48), v128.load(pb, 48)));
    }
  }
  const s = i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** Lanes of Σ over `reps` passes of f32x4.mul(a[i], b[i]), i over n bytes (n a multiple of 64). */
export function mac_f32(a: usize, b: usize, n: i32, reps: i32): f32 {
  let c0 = f32x4.splat(0),
    c1 = f32x4.splat(0),
    c2 = f32x4.splat(0),
    c3 = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i += 64) {
      const pa = a + <usize>i,
        pb = b + <usize>i;
      c0 = f32x4.add(c0, f32x4.mul(v128.load(pa, 0), v128.load(pb, 0)));
      c1 = f32x4.add(c1, f32x4.mul(v128.load(pa, 16), v128.load(pb, 16)));
      c2 = f32x4.add(c2, f32x4.mul(v128.load(pa, 32), v128.load(pb, 32)));
      c3 = f32x4.add(c3, f32x4.mul(v128.load(pa, 48), v128.load(pb, 48)));
    }
  }
  const s = f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
