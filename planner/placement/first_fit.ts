/**
 * First fit in a given order: each buffer goes to the lowest aligned offset
 * where it overlaps no already-placed buffer live at the same time. Every
 * placer here is "an order + first fit": if buffers are placed in the order of
 * their offsets in an optimal placement, first fit puts each at or below its
 * optimal offset, so some order reaches the optimum (exact.ts relies on this).
 */
import type { PlacementItem } from './types.js';

export class FirstFit {
  readonly n: number;
  /** Sizes rounded up to the alignment (what must not overlap). */
  readonly size: Float64Array;
  readonly conflicts: Int32Array[];
  private readonly placed: Uint8Array;
  private readonly scratch: number[] = [];

  constructor(
    readonly items: readonly PlacementItem[],
    readonly alignment: number,
  ) {
    const n = items.length;
    this.n = n;
    this.size = new Float64Array(n);
    items.forEach((it, i) => (this.size[i] = Math.ceil(it.bytes / alignment) * alignment));
    // Sweep by first step to find time overlaps.
    const byStart = items.map((_, i) => i).sort((a, b) => items[a]!.firstStep - items[b]!.firstStep || a - b);
    const lists: number[][] = items.map(() => []);
    for (let x = 0; x < n; x++) {
      const i = byStart[x]!;
      for (let y = x + 1; y < n; y++) {
        const j = byStart[y]!;
        if (items[j]!.firstStep > items[i]!.lastStep) break;
        if (items[i]!.bytes > 0 && items[j]!.bytes > 0) {
          lists[i]!.push(j);
          lists[j]!.push(i);
        }
      }
    }
    this.conflicts = lists.map((l) => Int32Array.from(l.sort((a, b) => a - b)));
    this.placed = new Uint8Array(n);
  }

  conflict(i: number, j: number): boolean {
    const it = this.items[i]!;
    const jt = this.items[j]!;
    return it.firstStep <= jt.lastStep && jt.firstStep <= it.lastStep && it.bytes > 0 && jt.bytes > 0;
  }

  /** Lowest aligned offset for item i given the offsets of items marked placed. */
  lowest(i: number, offsets: ArrayLike<number>, placed: Uint8Array): number {
    const spans = this.scratch;
    spans.length = 0;
    for (const j of this.conflicts[i]!) if (placed[j]) spans.push(j);
    spans.sort((a, b) => offsets[a]! - offsets[b]! || a - b);
    let o = 0;
    const need = this.size[i]!;
    for (const j of spans) {
      const start = offsets[j]!;
      if (o + need <= start) break;
      o = Math.max(o, start + this.size[j]!);
    }
    return o;
  }

  /** Places every item in `order`; returns offsets and the arena (largest offset + bytes). */
  place(order: readonly number[]): { offsets: number[]; arena: number } {
    const offsets = new Array<number>(this.n).fill(0);
    this.placed.fill(0);
    let arena = 0;
    for (const i of order) {
      const o = this.lowest(i, offsets, this.placed);
      offsets[i] = o;
      this.placed[i] = 1;
      arena = Math.max(arena, o + this.items[i]!.bytes);
    }
    return { offsets, arena };
  }
}
