/**
 * Stack painting for the activation arena: fill it with a known byte before
 * a run, then find the highest byte that no longer holds it. That is the
 * memory the run really touched, measured rather than assumed.
 */
export const CANARY_BYTES = [0xa5, 0x5a] as const;

export function paint(mem: Uint8Array, start: number, length: number, canary: number): void {
  mem.fill(canary, start, start + length);
}

/** Bytes from `start` up to and including the highest byte that differs from `canary` (0 when untouched). */
export function highWater(mem: Uint8Array, start: number, length: number, canary: number): number {
  // Scan words from the top; only the last differing word is examined byte by byte.
  const end = start + length;
  let i = end;
  const aligned = start + ((end - start) & ~3);
  for (; i > aligned; i--) if (mem[i - 1] !== canary) return i - start;
  const word = (canary * 0x01010101) >>> 0;
  const view = new Uint32Array(mem.buffer, mem.byteOffset, mem.byteLength >>> 2);
  if ((start & 3) === 0) {
    for (let w = (aligned >>> 2) - 1; w >= start >>> 2; w--) {
      if (view[w] !== word) {
        for (let b = w * 4 + 3; b >= w * 4; b--) if (mem[b] !== canary) return b + 1 - start;
      }
    }
    return 0;
  }
  for (; i > start; i--) if (mem[i - 1] !== canary) return i - start;
  return 0;
}
