/**
 * Bilinear resize of interleaved uint8 images with TensorFlow's rule
 * (resize_bilinear, align_corners=false, half_pixel_centers=true), no
 * antialiasing, no crop: exactly the bytes the reference engines were fed
 * (fixtures/reference/README.md, "Preprocessing for the TFLite files").
 * Interpolation is computed in float64 and rounded half up, as the
 * references were; float32 would change a fraction of a percent of bytes by 1.
 */
export function resizeBilinearHalfPixel(
  src: Uint8Array,
  srcW: number,
  srcH: number,
  channels: number,
  dstW: number,
  dstH: number,
): Uint8Array {
  if (src.length !== srcW * srcH * channels)
    throw new Error(`resize: buffer of ${src.length} bytes is not ${srcW}x${srcH}x${channels}`);
  if (srcW === dstW && srcH === dstH) return src.slice();
  const dst = new Uint8Array(dstW * dstH * channels);
  // Precompute the horizontal taps once per column.
  const x0s = new Int32Array(dstW);
  const x1s = new Int32Array(dstW);
  const fxs = new Float64Array(dstW);
  for (let x = 0; x < dstW; x++) {
    const sx = ((x + 0.5) * srcW) / dstW - 0.5;
    const x0 = Math.floor(sx);
    fxs[x] = sx - x0;
    x0s[x] = Math.min(Math.max(x0, 0), srcW - 1) * channels;
    x1s[x] = Math.min(Math.max(x0 + 1, 0), srcW - 1) * channels;
  }
  for (let y = 0; y < dstH; y++) {
    const sy = ((y + 0.5) * srcH) / dstH - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    const row0 = Math.min(Math.max(y0, 0), srcH - 1) * srcW * channels;
    const row1 = Math.min(Math.max(y0 + 1, 0), srcH - 1) * srcW * channels;
    for (let x = 0; x < dstW; x++) {
      const fx = fxs[x]!;
      const a = row0 + x0s[x]!;
      const b = row0 + x1s[x]!;
      const c = row1 + x0s[x]!;
      const d = row1 + x1s[x]!;
      const o = (y * dstW + x) * channels;
      for (let k = 0; k < channels; k++) {
        const v =
          (1 - fy) * ((1 - fx) * src[a + k]! + fx * src[b + k]!) + fy * ((1 - fx) * src[c + k]! + fx * src[d + k]!);
        const r = Math.round(v);
        dst[o + k] = r < 0 ? 0 : r > 255 ? 255 : r;
      }
    }
  }
  return dst;
}
