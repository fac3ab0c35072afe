/**
 * Weight packers: natural layouts (as in src/reference/ops.ts) to the layouts the
 * WASM kernels stream. Each packer takes a sub-block so that chunked execution
 * (a slice of output channels, or of the reduction dimension) packs only its part.
 */

import {
  DW_GROUP,
  GEMM_NR,
  packConvLength,
  packDepthwise3x3Length,
  packFullyConnectedLength,
  packFusedBlockLength,
  packGemm1x1Length,
} from './schema/layouts.js';

// The layouts' sizes are declared with the kernel schema, which the range manifest reads too.
export {
  DW_GROUP,
  GEMM_NR,
  packConvLength,
  packDepthwise3x3Length,
  packFullyConnectedLength,
  packFusedBlockLength,
  packGemm1x1Length,
};

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
export function packGemm1x1(
  w: Float32Array,
  N: number,
  K: number,
  nStart = 0,
  nCount = N,
  kStart = 0,
  kCount = K,
): Float32Array {
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

/**
 * Pack channels cStart..cStart+cCount of depthwise 3x3 weights ([1][3][3][C], TFLite
 * layout) into groups of 4 channels: out[g][tap][j] = w[tap·C + cStart + 4g + j],
 * tap = ky·3 + kx, zero past cCount.
 */
export function packDepthwise3x3(w: Float32Array, C: number, cStart = 0, cCount = C): Float32Array {
  if (w.length !== 9 * C) throw new Error(`packDepthwise3x3: weights have ${w.length} floats, expected 3·3·C = 9·${C}`);
  checkRange('packDepthwise3x3 (channels)', cStart, cCount, C);
  const out = new Float32Array(packDepthwise3x3Length(cCount));
  let o = 0;
  for (let g = 0; g < cCount; g += DW_GROUP) {
    for (let tap = 0; tap < 9; tap++) {
      for (let j = 0; j < DW_GROUP; j++, o++) {
        if (g + j < cCount) out[o] = w[tap * C + cStart + g + j]!;
      }
    }
  }
  return out;
}

/**
 * Dense conv weights OHWI [OC][kh][kw][C] for output channels ocStart..ocStart+ocCount
 * (the stem's first-layer slices, Section 5.1): the GEMM panel layout with K = kh·kw·C.
 */
export function packConv(
  w: Float32Array,
  OC: number,
  kh: number,
  kw: number,
  C: number,
  ocStart = 0,
  ocCount = OC,
): Float32Array {
  if (w.length !== OC * kh * kw * C) {
    throw new Error(`packConv: weights have ${w.length} floats, expected OC·kh·kw·C = ${OC}·${kh}·${kw}·${C}`);
  }
  return packGemm1x1(w, OC, kh * kw * C, ocStart, ocCount, 0, kh * kw * C);
}

/** 3x3 conv weights OHWI [OC][3][3][C] (the stem), optionally an output-channel slice. */
export function packConv3x3(w: Float32Array, OC: number, C: number, ocStart = 0, ocCount = OC): Float32Array {
  return packConv(w, OC, 3, 3, C, ocStart, ocCount);
}

export function packConv3x3Length(ocCount: number, C: number): number {
  return packConvLength(ocCount, 3, 3, C);
}

/** Fully-connected weights [N][K] (rows nStart..nStart+nCount): the GEMM panel layout. */
export function packFullyConnected(w: Float32Array, N: number, K: number, nStart = 0, nCount = N): Float32Array {
  return packGemm1x1(w, N, K, nStart, nCount, 0, K);
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Weights of one inverted residual block in natural layouts (as src/reference/ops.ts), for packFusedBlock. */
export interface FusedBlockWeights {
  /** Expansion, OHWI: [C_exp][C_in] (1x1) or [C_exp][3][3][C_in] (the stem conv). */
  expand: Float32Array;
  expandBias: Float32Array | null;
  /** Depthwise [1][3][3][C_exp]. */
  depthwise: Float32Array;
  depthwiseBias: Float32Array | null;
  /** Projection [C_out][C_exp]. */
  project: Float32Array;
  projectBias: Float32Array | null;
}

/**
 * Packs a block for f32_block_fused (layout in assembly/fused.ts): the projection bias, then
 * for each group of `groupChannels` expanded channels its expansion panels (N = the group),
 * expansion bias, depthwise groups of 4, depthwise bias and projection panels (K = the
 * group). Every piece is a multiple of 4 floats, so each stays 16-byte aligned.
 */
export function packFusedBlock(
  w: FusedBlockWeights,
  cIn: number,
  cExp: number,
  cOut: number,
  stem: boolean,
  groupChannels: number,
): Float32Array {
  const kExp = stem ? 9 * cIn : cIn;
  const check = (what: string, a: Float32Array | null, n: number) => {
    if (a && a.length !== n) throw new Error(`packFusedBlock: ${what} has ${a.length} floats, expected ${n}`);
  };
  check('expansion weights', w.expand, cExp * kExp);
  check('expansion bias', w.expandBias, cExp);
  check('depthwise weights', w.depthwise, 9 * cExp);
  check('depthwise bias', w.depthwiseBias, cExp);
  check('projection weights', w.project, cOut * cExp);
  check('projection bias', w.projectBias, cOut);
  if (!(Number.isInteger(groupChannels) && groupChannels >= 1 && groupChannels <= cExp)) {
    throw new Error(`packFusedBlock: group of ${groupChannels} channels not in 1..${cExp}`);
  }
  const out = new Float32Array(packFusedBlockLength(kExp, cExp, cOut, groupChannels));
  let o = 0;
  const put = (a: Float32Array, floats: number) => {
    out.set(a, o);
    o += floats;
  };
  if (w.projectBias) out.set(w.projectBias, 0);
  o = pad4(cOut);
  for (let c0 = 0; c0 < cExp; c0 += groupChannels) {
    const gn = Math.min(groupChannels, cExp - c0);
    put(packGemm1x1(w.expand, cExp, kExp, c0, gn), packGemm1x1Length(gn, kExp));
    put(w.expandBias ? w.expandBias.subarray(c0, c0 + gn) : new Float32Array(0), pad4(gn));
    put(packDepthwise3x3(w.depthwise, cExp, c0, gn), packDepthwise3x3Length(gn));
    put(w.depthwiseBias ? w.depthwiseBias.subarray(c0, c0 + gn) : new Float32Array(0), pad4(gn));
    put(packGemm1x1(w.project, cOut, cExp, 0, cOut, c0, gn), packGemm1x1Length(cOut, gn));
  }
  if (o !== out.length) throw new Error(`internal: packFusedBlock wrote ${o} of ${out.length} floats`);
  return out;
}
