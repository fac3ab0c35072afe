/**
 * Weight packers: natural layouts (as in src/reference/ops.ts) to the layouts the
 * WASM kernels stream. Each packer takes a sub-block so that chunked execution
 * (a slice of output channels, or of the reduction dimension) packs only its part.
 */

/** Output channels per GEMM panel (assembly/gemm.ts). */
export const GEMM_NR = 8;

export function packGemm1x1Length(nCount: number, kCount: number): number {
  return Math.ceil(nCount / GEMM_NR) * GEMM_NR * kCount;
}

function checkRange(what: string, start: number, count: number, total: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > total) {
    throw new Error(`${what}: slice [${start}, ${start + count}) is not inside [0, ${total})`);
  }
}

/**
 * Pack rows nStart..nStart+nCount of w ([N][K], K contiguous) restricted to columns
 * kStart..kStart+kCount into panels of 8: out[p][k][j] = w[nStart+8p+j][kStart+k],
 * zero past nCount. Conv weights OHWI are [OC][kh·kw·C], i.e. the same with K = kh·kw·C.
 */
export function packGemm1x1(w: Float32Array, N: number, K: number, nStart = 0, nCount = N, kStart = 0, kCount = K): Float32Array {
  if (w.length !== N * K) throw new Error(`packGemm1x1: weights have ${w.length} floats, expected N·K = ${N}·${K}`);
  checkRange('packGemm1x1 (output channels)', nStart, nCount, N);
  checkRange('packGemm1x1 (input channels)', kStart, kCount, K);
  const out = new Float32Array(packGemm1x1Length(nCount, kCount));
  let o = 0;
  for (let n0 = 0; n0 < nCount; n0 += GEMM_NR) {
    for (let k = 0; k < kCount; k++) {
      for (let j = 0; j < GEMM_NR; j++, o++) {
        const n = n0 + j;
        if (n < nCount) out[o] = w[(nStart + n) * K + kStart + k]!;
      }
    }
  }
  return out;
}
