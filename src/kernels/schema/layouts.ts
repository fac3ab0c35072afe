/**
 * Packed-weight layouts shared by the packers (src/kernels/pack.ts, q8_pack.ts), the
 * kernels (assembly/) and the range manifest: their sizes as formulas of the shapes, in
 * one place. The byte order inside each layout is described where it is written
 * (the packers) and read (the kernels).
 */

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** f32: output channels per GEMM panel (assembly/gemm.ts). */
export const GEMM_NR = 8;
/** f32: channels per depthwise weight group (assembly/dwconv.ts). */
export const DW_GROUP = 4;

/** f32 floats of packGemm1x1's panels: nCount channels rounded up to GEMM_NR, kCount inputs each. */
export function packGemm1x1Length(nCount: number, kCount: number): number {
  return roundUp(nCount, GEMM_NR) * kCount;
}

/** f32 floats of packDepthwise3x3's groups of DW_GROUP channels × 9 taps. */
export function packDepthwise3x3Length(cCount: number): number {
  return roundUp(cCount, DW_GROUP) * 9;
}

/** f32 floats of packConv (a GEMM over kh·kw·C inputs). */
export function packConvLength(ocCount: number, kh: number, kw: number, C: number): number {
  return packGemm1x1Length(ocCount, kh * kw * C);
}

/** f32 floats of packFullyConnected (a GEMM over K inputs). */
export function packFullyConnectedLength(nCount: number, K: number): number {
  return packGemm1x1Length(nCount, K);
}

const pad4 = (n: number) => roundUp(n, 4);

/** f32 floats of one group of gn channels in packFusedBlock's layout. */
function fusedGroupFloats(gn: number, kExp: number, cOut: number): number {
  return packGemm1x1Length(gn, kExp) + pad4(gn) + packDepthwise3x3Length(gn) + pad4(gn) + packGemm1x1Length(cOut, gn);
}

/** f32 floats of packFusedBlock's output; kExp = C_in (1x1 expansion) or 9·C_in (stem). */
export function packFusedBlockLength(kExp: number, cExp: number, cOut: number, groupChannels: number): number {
  let n = pad4(cOut);
  for (let c0 = 0; c0 < cExp; c0 += groupChannels)
    n += fusedGroupFloats(Math.min(groupChannels, cExp - c0), kExp, cOut);
  return n;
}

/** q8: output channels per GEMM panel; bias and multiplier arrays are padded to it. */
export const Q8_NR = 8;

/** q8 bytes of one panel's run of k inputs: ceil(k/2) pairs of 16 bytes (8 channels × 2 inputs). */
export function q8PanelBytes(kCount: number): number {
  return Math.ceil(kCount / 2) * 16;
}

/** q8 bytes of a packed GEMM matrix of nCount output channels and kCount inputs. */
export function packQ8GemmLength(nCount: number, kCount: number): number {
  return Math.ceil(nCount / Q8_NR) * q8PanelBytes(kCount);
}

/** q8 per-channel int32 bias or f32 multiplier bytes of n channels (padded to Q8_NR). */
export function q8ChannelBytes(n: number): number {
  return roundUp(n, Q8_NR) * 4;
}

/**
 * Reduction segments of a packed q8 conv (assembly/q8_conv.ts): a whole kernel row of kw·C
 * contiguous input bytes when the dilation along x is 1, else one tap of C bytes.
 */
export function q8ConvSegments(
  kh: number,
  kw: number,
  C: number,
  dilationW: number,
): { count: number; length: number } {
  return dilationW === 1 ? { count: kh, length: kw * C } : { count: kh * kw, length: C };
}

/** q8 bytes of packed conv weights (each segment padded to an even length). */
export function packQ8ConvLength(ocCount: number, kh: number, kw: number, C: number, dilationW = 1): number {
  const s = q8ConvSegments(kh, kw, C, dilationW);
  return Math.ceil(ocCount / Q8_NR) * s.count * q8PanelBytes(s.length);
}

/** q8 channels of a packed depthwise tap-pair row: the slice rounded up to 16, plus 16 (any channel offset may read 16 lanes). */
export function q8DepthwiseStride(cCount: number): number {
  return roundUp(cCount, 16) + 16;
}

/** q8 bytes between the tap-pair rows of packed depthwise weights (the kernels' `ws`). */
export function q8DepthwisePairBytes(cCount: number): number {
  return q8DepthwiseStride(cCount) * 2;
}

/** q8 bytes of the depthwise tap-pair rows a call over C channels reads: 5 rows, 32 bytes per 16 channels. */
export const Q8_DW_PAIR_ROWS = 5;
export function q8DepthwiseRowReadBytes(C: number): number {
  return Math.ceil(C / 16) * 32;
}
