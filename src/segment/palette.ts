/**
 * The PASCAL VOC colour map: the colour of class c spreads c's bits over the
 * top bits of R, G and B (bit 0 → R, bit 1 → G, bit 2 → B, most significant
 * colour bit first), as the VOC devkit's `labelcolormap` does. Class 0
 * (background) is black, 255 (VOC's "void" boundary label) is (224, 224, 192).
 */
export const PALETTE_ENTRIES = 256;

/** RGB triples of classes 0..n−1, 3 bytes each. */
export function vocPalette(n = PALETTE_ENTRIES): Uint8Array {
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 7; j >= 0 && c > 0; j--) {
      r |= (c & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
      c >>= 3;
    }
    out.set([r, g, b], 3 * i);
  }
  return out;
}
