/**
 * Bilinear resize of interleaved uint8 images with TensorFlow's rule
 * (resize_bilinear, align_corners=false, half_pixel_centers=true), no
 * antialiasing, no crop: exactly the bytes the reference engines were fed
 * (fixtures/reference/README.md, "Preprocessing for the TFLite files").
 * Interpolation is computed in float64 and rounded half up, as the
 * references were; float32 would change a fraction of a percent of bytes by 1.
 *
 * RowResizer makes one output row at a time (a streamed plan asks for the rows of
 * its input as it needs them, so the resized image never exists whole); the
 * whole-image function is the same rows in order.
 */
export class RowResizer {
  private readonly x0s: Int32Array;
  private readonly x1s: Int32Array;
  private readonly fxs: Float64Array;
  /** Bytes of one output row. */
  readonly rowBytes: number;

  constructor(
    private readonly src: Uint8Array,
    private readonly srcW: number,
    private readonly srcH: number,
    private readonly channels: number,
    private readonly dstW: number,
    private readonly dstH: number,
  ) {
    if (src.length !== srcW * srcH * channels)
      throw new Error(`resize: buffer of ${src.length} bytes is not ${srcW}x${srcH}x${channels}`);
    this.rowBytes = dstW * channels;
    // The horizontal taps, once per column.
    this.x0s = new Int32Array(dstW);
    this.x1s = new Int32Array(dstW);
    this.fxs = new Float64Array(dstW);
    for (let x = 0; x < dstW; x++) {
      const sx = ((x + 0.5) * srcW) / dstW - 0.5;
      const x0 = Math.floor(sx);
      this.fxs[x] = sx - x0;
      this.x0s[x] = Math.min(Math.max(x0, 0), srcW - 1) * channels;
      this.x1s[x] = Math.min(Math.max(x0 + 1, 0), srcW - 1) * channels;
    }
  }

  /** Output row y into `out` (rowBytes bytes from out[0]). */
  row(y: number, out: Uint8Array): void {
    const { src, srcW, srcH, channels, dstW, dstH } = this;
    if (srcW === dstW && srcH === dstH) {
      out.set(src.subarray(y * this.rowBytes, (y + 1) * this.rowBytes));
      return;
    }
    const sy = ((y + 0.5) * srcH) / dstH - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    const row0 = Math.min(Math.max(y0, 0), srcH - 1) * srcW * channels;
    const row1 = Math.min(Math.max(y0 + 1, 0), srcH - 1) * srcW * channels;
    for (let x = 0; x < dstW; x++) {
      const fx = this.fxs[x]!;
      const a = row0 + this.x0s[x]!;
      const b = row0 + this.x1s[x]!;
      const c = row1 + this.x0s[x]!;
      const d = row1 + this.x1s[x]!;
      const o = x * channels;
      for (let k = 0; k < channels; k++) {
        const v =
          (1 - fy) * ((1 - fx) * src[a + k]! + fx * src[b + k]!) + fy * ((1 - fx) * src[c + k]! + fx * src[d + k]!);
        const r = Math.round(v);
        out[o + k] = r < 0 ? 0 : r > 255 ? 255 : r;
      }
    }
  }
}

export function resizeBilinearHalfPixel(
  src: Uint8Array,
  srcW: number,
  srcH: number,
  channels: number,
  dstW: number,
  dstH: number,
): Uint8Array {
  const r = new RowResizer(src, srcW, srcH, channels, dstW, dstH);
  if (srcW === dstW && srcH === dstH) return src.slice();
  const dst = new Uint8Array(dstW * dstH * channels);
  for (let y = 0; y < dstH; y++) r.row(y, dst.subarray(y * r.rowBytes, (y + 1) * r.rowBytes));
  return dst;
}
