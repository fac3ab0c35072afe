/** Test helpers for detection: a PRNG, random boxes, IoU and NMS written from their definitions. */

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Boxes around a few cluster centres (many overlaps), some degenerate. */
export function randomBoxes(r: () => number, n: number): Float32Array {
  const centres = Array.from({ length: 4 }, () => [r(), r()]);
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const [cy, cx] = centres[Math.floor(r() * centres.length)]!;
    const y = cy! + (r() - 0.5) * 0.2;
    const x = cx! + (r() - 0.5) * 0.2;
    const h = r() < 0.05 ? 0 : 0.05 + r() * 0.3;
    const w = 0.05 + r() * 0.3;
    b.set([y - h / 2, x - w / 2, y + h / 2, x + w / 2], 4 * i);
  }
  return b;
}

/** IoU written from the definition (areas of the intersection and the union). */
export function refIou(b: ArrayLike<number>, i: number, j: number): number {
  const area = (k: number) => Math.max(0, b[4 * k + 2]! - b[4 * k]!) * Math.max(0, b[4 * k + 3]! - b[4 * k + 1]!);
  if (area(i) === 0 || area(j) === 0) return 0;
  const ih = Math.max(0, Math.min(b[4 * i + 2]!, b[4 * j + 2]!) - Math.max(b[4 * i]!, b[4 * j]!));
  const iw = Math.max(0, Math.min(b[4 * i + 3]!, b[4 * j + 3]!) - Math.max(b[4 * i + 1]!, b[4 * j + 1]!));
  return (ih * iw) / (area(i) + area(j) - ih * iw);
}

/**
 * Brute force, by the definition: the next kept box is the best-scoring box (lowest index
 * among equals) at or above the score threshold that no kept box overlaps by more than
 * the IoU threshold.
 */
export function bruteForceNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  iouT: number,
  scoreT: number,
  max: number,
): number[] {
  const kept: number[] = [];
  const n = scores.length;
  while (kept.length < max) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (kept.includes(i) || !(scores[i]! >= scoreT)) continue;
      if (kept.some((k) => refIou(boxes, k, i) > iouT)) continue;
      if (best < 0 || scores[i]! > scores[best]!) best = i;
    }
    if (best < 0) break;
    kept.push(best);
  }
  return kept;
}
