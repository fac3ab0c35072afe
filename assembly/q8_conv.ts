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
// Interior pixels go 4 at a time through q8_conv_rq_4x8c2s4__wasmsimd (the GEMM template's
// reduction over the conv's segments, src/kernels/schema/templates.ts); border pixels one
// at a time with bounds checks.
//
// Output: a window [oy0, oy1) × [ox0, ox1) of the OC channels, stored contiguously
// (pixel stride OC bytes): the whole tensor for an op, or the expanded-chunk window of a
// fused block whose expansion is the stem conv.
import { Q8ConvArgs } from './gen/args';
import { q8_conv_rq_4x8c2s4__wasmsimd } from './gen/q8_conv_rq_4x8c2s4__wasmsimd';
import { loadq, requant8, rqMz, rqLo, rqHi, rqZw, wload, narrowBytes, storeBytes } from './q8_common';

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
        // The block's 4 pairs as i32 lanes, then the same 4 rotations as the 4-pixel kernel.
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
export function conv2d<T>(a: Q8ConvArgs): void {
  const vz = rqMz(a.rq),
    vlo = rqLo(a.rq),
    vhi = rqHi(a.rq),
    vzw = rqZw<T>(a.rq);
  // Reduction segments: a whole kernel row (kw·C contiguous bytes) when dilation is 1, else one tap.
  const rowLayout = a.dw == 1;
  const nseg = rowLayout ? 1 : a.kw;
  const L = rowLayout ? a.kw * a.C : a.C;
  const panelBytes = (<usize>(a.kh * nseg * ((L + 1) >> 1))) << 4;
  const Cu = <usize>a.C;
  const rowS = <usize>a.dh * <usize>a.W * Cu;
  const segS = <usize>a.dw * Cu;
  const pixS = <usize>a.sw * Cu;
  const OW = a.ox1 - a.ox0;
  // Output columns whose taps are all inside [0, W): ixLo ≤ ox < ixHi.
  const ixLo = (a.pl + a.sw - 1) / a.sw;
  const ixHi = a.W - 1 - (a.kw - 1) * a.dw + a.pl >= 0 ? (a.W - 1 - (a.kw - 1) * a.dw + a.pl) / a.sw + 1 : 0;
  for (let oy = a.oy0; oy < a.oy1; oy++) {
    const iy0 = oy * a.sh - a.pt;
    const rowInside = iy0 >= 0 && iy0 + (a.kh - 1) * a.dh <= a.H - 1;
    const yrow = a.y + <usize>((oy - a.oy0) * OW) * <usize>a.ops;
    const fastLo = rowInside ? max(a.ox0, ixLo) : a.ox1;
    const fastHi = rowInside ? min(a.ox1, ixHi) : a.ox1;
    let ox = a.ox0;
    for (let n0 = 0; n0 < a.OC; n0 += 8) {
      const nr = min(8, a.OC - n0);
      const wp = a.w + <usize>(n0 >> 3) * panelBytes;
      const bp = a.b + ((<usize>n0) << 2);
      const sp = a.s + ((<usize>n0) << 2);
      for (ox = a.ox0; ox < a.ox1;) {
        const yp = yrow + <usize>((ox - a.ox0) * a.ops + n0);
        if (ox >= fastLo && ox + 4 <= fastHi) {
          const p0 = a.x + (<usize>iy0 * <usize>a.W + <usize>(ox * a.sw - a.pl)) * Cu;
          q8_conv_rq_4x8c2s4__wasmsimd<T>(
            p0,
            pixS,
            a.kh,
            nseg,
            L,
            rowS,
            segS,
            wp,
            bp,
            sp,
            yp,
            <usize>a.ops,
            nr,
            vz,
            vlo,
            vhi,
            vzw,
          );
          ox += 4;
        } else {
          pixelChecked<T>(
            a.x,
            a.H,
            a.W,
            a.C,
            iy0,
            ox * a.sw - a.pl,
            a.kh,
            nseg,
            L,
            a.dh,
            a.dw,
            rowLayout,
            wp,
            bp,
            sp,
            yp,
            nr,
            a.zx,
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
