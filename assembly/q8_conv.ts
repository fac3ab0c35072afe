// q8 dense convolution (any kernel, stride, dilation), for the 3x3/2 stem and any conv
// that is not 1x1: acc[o] = b'[o] + Σ_taps Σ_c x·w'[o][tap][c], requantized per channel.
//
// Packed weights (src/kernels/q8_pack.ts, packQ8Conv): the GEMM panel layout (q8_gemm.ts:
// one byte per weight, blocks of 8 inputs, then pairs) over reduction segments padded to
// an even length with a zero weight: with dilation 1 in x a segment is a whole kernel row
// (kw·C bytes, contiguous in the input: the stem's 3x3x3 is 3 segments of 9), otherwise one
// tap (C bytes), so a pair never straddles two segments. An odd segment's last byte loads
// alone (`single`) against (w, 0). uint8 weights widen with their zero point subtracted
// (wload): padding holds zw.
//
// Padding: b' folds −zx·Σw', so a tap outside the image must contribute zx·w' (TF SAME
// pads with the input zero point): border pixels use the splatted zero point there.
//
// Output: a window [oy0, oy1) × [ox0, ox1) of the OC channels, stored contiguously
// (pixel stride OC bytes): the whole tensor for an op, or the expanded-chunk window of a
// fused block whose expansion is the stem conv.
import {
  pair,
  single,
  load8x8,
  loadq,
  requant8,
  rqMz,
  rqLo,
  rqHi,
  rqZw,
  wload,
  narrowBytes,
  storeBytes,
} from './q8_common';

/**
 * 4 horizontally adjacent output pixels × 8 channels, every tap inside the image. The
 * reduction runs over kh·nseg contiguous segments of L input bytes (a whole kernel row
 * when dilation is 1, else one tap): 8 bytes widen at once and shuffles rotate their
 * pairs (q8_gemm.ts), then pairs, then a last single byte against (w, 0).
 */
// @ts-ignore: decorator
@inline function block4<T>(
  p0: usize,
  pixS: usize,
  kh: i32,
  nseg: i32,
  L: i32,
  rowS: usize,
  segS: usize,
  wp: usize,
  b: usize,
  s: usize,
  yp: usize,
  os: usize,
  nr: i32,
  vz: v128,
  vlo: v128,
  vhi: v128,
  vzw: v128,
): void {
  let c00 = v128.load(b),
    c01 = v128.load(b, 16);
  let c10 = c00,
    c11 = c01,
    c20 = c00,
    c21 = c01,
    c30 = c00,
    c31 = c01;
  const L8 = L & ~7;
  const L2 = L & ~1;
  const odd = L & 1;
  for (let ky = 0; ky < kh; ky++) {
    let tp = p0 + <usize>ky * rowS;
    for (let sg = 0; sg < nseg; sg++) {
      let a0 = tp,
        a1 = tp + pixS,
        a2 = tp + 2 * pixS,
        a3 = tp + 3 * pixS;
      let k = 0;
      for (; k < L8; k += 8) {
        const x0 = load8x8<T>(a0),
          x1 = load8x8<T>(a1),
          x2 = load8x8<T>(a2),
          x3 = load8x8<T>(a3);
        {
          const w0 = wload<T>(wp, vzw),
            w1 = wload<T>(wp + 8, vzw);
          let v = x0;
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = x1;
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = x2;
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = x3;
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = wload<T>(wp + 16, vzw),
            w1 = wload<T>(wp + 24, vzw);
          let v = i32x4.shuffle(x0, x0, 1, 2, 3, 0);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 1, 2, 3, 0);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 1, 2, 3, 0);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 1, 2, 3, 0);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = wload<T>(wp + 32, vzw),
            w1 = wload<T>(wp + 40, vzw);
          let v = i32x4.shuffle(x0, x0, 2, 3, 0, 1);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 2, 3, 0, 1);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 2, 3, 0, 1);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 2, 3, 0, 1);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = wload<T>(wp + 48, vzw),
            w1 = wload<T>(wp + 56, vzw);
          let v = i32x4.shuffle(x0, x0, 3, 0, 1, 2);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 3, 0, 1, 2);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 3, 0, 1, 2);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 3, 0, 1, 2);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        a0 += 8;
        a1 += 8;
        a2 += 8;
        a3 += 8;
        wp += 64;
      }
      for (; k < L2; k += 2) {
        const w0 = wload<T>(wp, vzw),
          w1 = wload<T>(wp + 8, vzw);
        let v = pair<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        a0 += 2;
        a1 += 2;
        a2 += 2;
        a3 += 2;
        wp += 16;
      }
      if (odd) {
        const w0 = wload<T>(wp, vzw),
          w1 = wload<T>(wp + 8, vzw);
        let v = single<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        wp += 16;
      }
      tp += segS;
    }
  }
  const s0 = v128.load(s),
    s1 = v128.load(s, 16);
  storeBytes(yp, narrowBytes<T>(requant8(c00, c01, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + os, narrowBytes<T>(requant8(c10, c11, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + 2 * os, narrowBytes<T>(requant8(c20, c21, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + 3 * os, narrowBytes<T>(requant8(c30, c31, s0, s1, vz, vlo, vhi)), nr);
}

/** Element e of segment (ky, sg) of the pixel whose first tap is (iy0, ix0), or the zero point outside the image. */
// @ts-ignore: decorator
@inline function elem<T>(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  iy: i32,
  ix0: i32,
  dw: i32,
  rowLayout: bool,
  sg: i32,
  e: i32,
  zx: i32,
): i32 {
  const kx = rowLayout ? e / C : sg;
  const c = rowLayout ? e % C : e;
  const ix = ix0 + kx * dw;
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return zx;
  return loadq<T>(x + (<usize>iy * <usize>W + <usize>ix) * <usize>C + <usize>c);
}

/** One output pixel × 8 channels with bounds checks: taps outside the image read the zero point. */
// @ts-ignore: decorator
@inline function pixelChecked<T>(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  iy0: i32,
  ix0: i32,
  kh: i32,
  nseg: i32,
  L: i32,
  dh: i32,
  dw: i32,
  rowLayout: bool,
  wp: usize,
  b: usize,
  s: usize,
  yp: usize,
  nr: i32,
  zx: i32,
  vz: v128,
  vlo: v128,
  vhi: v128,
  vzw: v128,
): void {
  let c0 = v128.load(b),
    c1 = v128.load(b, 16);
  const L8 = L & ~7;
  for (let ky = 0; ky < kh; ky++) {
    const iy = iy0 + ky * dh;
    for (let sg = 0; sg < nseg; sg++) {
      let e = 0;
      for (; e < L8; e += 8) {
        // The block's 4 pairs as i32 lanes, then the same 4 rotations as block4.
        let v = i32x4.splat(0);
        for (let q = 0; q < 4; q++) {
          const lo = elem<T>(x, H, W, C, iy, ix0, dw, rowLayout, sg, e + 2 * q, zx);
          const hi = elem<T>(x, H, W, C, iy, ix0, dw, rowLayout, sg, e + 2 * q + 1, zx);
          v = i32x4.shuffle(v, i32x4.splat((lo & 0xffff) | (hi << 16)), 1, 2, 3, 4);
        }
        for (let r = 0; r < 4; r++) {
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v, wload<T>(wp, vzw)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v, wload<T>(wp + 8, vzw)));
          v = i32x4.shuffle(v, v, 1, 2, 3, 0);
          wp += 16;
        }
      }
      for (; e < L; e += 2) {
        const lo = elem<T>(x, H, W, C, iy, ix0, dw, rowLayout, sg, e, zx);
        const hi = e + 1 < L ? elem<T>(x, H, W, C, iy, ix0, dw, rowLayout, sg, e + 1, zx) : 0;
        const v = i32x4.splat((lo & 0xffff) | (hi << 16));
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v, wload<T>(wp, vzw)));
        c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v, wload<T>(wp + 8, vzw)));
        wp += 16;
      }
    }
  }
  storeBytes(yp, narrowBytes<T>(requant8(c0, c1, v128.load(s), v128.load(s, 16), vz, vlo, vhi)), nr);
}

/**
 * y window [oy0,oy1)×[ox0,ox1)×OC of conv(x [H][W][C]), pixels `ops` bytes apart (OC for a
 * contiguous window); w, b, s point at the first of the OC channels (a panel boundary);
 * rq gives z, lo, hi; zx pads.
 */
export function conv2d<T>(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  oy0: i32,
  oy1: i32,
  ox0: i32,
  ox1: i32,
  OC: i32,
  ops: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  pt: i32,
  pl: i32,
  w: usize,
  b: usize,
  s: usize,
  rq: usize,
  zx: i32,
): void {
  const vz = rqMz(rq),
    vlo = rqLo(rq),
    vhi = rqHi(rq),
    vzw = rqZw<T>(rq);
  // Reduction segments: a whole kernel row (kw·C contiguous bytes) when dilation is 1, else one tap.
  const rowLayout = dw == 1;
  const nseg = rowLayout ? 1 : kw;
  const L = rowLayout ? kw * C : C;
  const panelBytes = (<usize>(kh * nseg * ((L + 1) >> 1))) << 4;
  const Cu = <usize>C;
  const rowS = <usize>dh * <usize>W * Cu;
  const segS = <usize>dw * Cu;
  const pixS = <usize>sw * Cu;
  const OW = ox1 - ox0;
  // Output columns whose taps are all inside [0, W): ixLo ≤ ox < ixHi.
  const ixLo = (pl + sw - 1) / sw;
  const ixHi = W - 1 - (kw - 1) * dw + pl >= 0 ? (W - 1 - (kw - 1) * dw + pl) / sw + 1 : 0;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sh - pt;
    const rowInside = iy0 >= 0 && iy0 + (kh - 1) * dh <= H - 1;
    const yrow = y + <usize>((oy - oy0) * OW) * <usize>ops;
    const fastLo = rowInside ? max(ox0, ixLo) : ox1;
    const fastHi = rowInside ? min(ox1, ixHi) : ox1;
    let ox = ox0;
    for (let n0 = 0; n0 < OC; n0 += 8) {
      const nr = min(8, OC - n0);
      const wp = w + <usize>(n0 >> 3) * panelBytes;
      const bp = b + ((<usize>n0) << 2);
      const sp = s + ((<usize>n0) << 2);
      for (ox = ox0; ox < ox1;) {
        const yp = yrow + <usize>((ox - ox0) * ops + n0);
        if (ox >= fastLo && ox + 4 <= fastHi) {
          const p0 = x + (<usize>iy0 * <usize>W + <usize>(ox * sw - pl)) * Cu;
          block4<T>(p0, pixS, kh, nseg, L, rowS, segS, wp, bp, sp, yp, <usize>ops, nr, vz, vlo, vhi, vzw);
          ox += 4;
        } else {
          pixelChecked<T>(
            x,
            H,
            W,
            C,
            iy0,
            ox * sw - pl,
            kh,
            nseg,
            L,
            dh,
            dw,
            rowLayout,
            wp,
            bp,
            sp,
            yp,
            nr,
            zx,
            vz,
            vlo,
            vhi,
            vzw,
          );
          ox++;
        }
      }
    }
  }
}
