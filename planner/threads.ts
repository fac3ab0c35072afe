/**
 * Intra-op threads: how a whole-tensor plan's steps are shared between T threads, and
 * the memory each thread beyond the first adds.
 *
 * A step split across threads gives each thread a contiguous range of output rows
 * (splitRows). A fused Section 5.1 block runs its whole chunk loop on its rows, so each
 * thread needs its own expanded-chunk and depthwise-chunk buffers: thread 0 uses the
 * plan's, every other thread a region of its own after the arena, as big as the largest
 * chunk scratch (expanded + depthwise buffers) of any block of the plan. Output rows
 * computed on different threads never overlap, and every output element is still the
 * same sum in the same order (each row's chunk loop, bias first, then group by group),
 * so the result does not depend on the thread count.
 *
 * Streamed plans (planner/stream) are not split: their units carry state from one band
 * of rows to the next (rings, persistent expanded rows, the head's sums).
 */
import type { Plan } from './plan.js';

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/**
 * Output rows [r0, r1) of each of `threads` parts of `rows` rows: contiguous, in order,
 * sizes differing by at most one (the earlier parts take the extra rows). A part is
 * empty (r0 = r1) when there are fewer rows than threads.
 */
export function splitRows(rows: number, threads: number): [number, number][] {
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a whole number ≥ 1, got ${threads}`);
  const out: [number, number][] = [];
  const base = Math.floor(rows / threads);
  const extra = rows % threads;
  let r = 0;
  for (let t = 0; t < threads; t++) {
    const n = base + (t < extra ? 1 : 0);
    out.push([r, r + n]);
    r += n;
  }
  return out;
}

/**
 * Output channels [n0, n1) of each of `threads` parts of `n` channels, cut at multiples of
 * `unit` (the GEMM kernels' panel width) so every part starts on a panel: a one-row GEMM
 * (a fully connected layer) splits its channels, not its one row. Parts differ by at most
 * one panel; a part is empty when there are fewer panels than threads.
 */
export function splitChannels(n: number, threads: number, unit = 8): [number, number][] {
  return splitRows(Math.ceil(n / unit), threads).map(([a, b]) => [Math.min(n, a * unit), Math.min(n, b * unit)]);
}

/**
 * Bytes of the chunk scratch every thread beyond the first needs for the plan's fused
 * blocks: one block runs at a time, so one region serves them all, as big as the largest
 * block's expanded-chunk buffer followed (16-byte aligned) by its depthwise-chunk buffer
 * (threadScratchAt). 0 when the plan has no block step.
 */
export function threadScratchBytes(plan: Plan): number {
  let most = 0;
  for (const s of plan.steps)
    if (s.kind === 'block')
      most = Math.max(
        most,
        align16(plan.buffers[s.expandBuffer]!.bytes) + align16(plan.buffers[s.depthwiseBuffer]!.bytes),
      );
  return most;
}

/** Offsets in a thread's scratch region of a block's expanded-chunk (e) and depthwise-chunk (d) buffers. */
export function threadScratchAt(expandBytes: number): { e: number; d: number } {
  return { e: 0, d: align16(expandBytes) };
}

/** The largest chunk scratch (expanded + depthwise buffers) of one block step of the plan. */
export function largestBlockScratch(plan: Plan): number {
  let most = 0;
  for (const s of plan.steps)
    if (s.kind === 'block')
      most = Math.max(most, plan.buffers[s.expandBuffer]!.bytes + plan.buffers[s.depthwiseBuffer]!.bytes);
  return most;
}

/** Why a plan cannot run on several threads (null: it can). */
export function threadsRefusal(plan: Plan): string | null {
  return plan.steps.some((s) => s.kind === 'stream')
    ? 'threads split whole-tensor plans only; this plan is row-streamed (--stream, or a budget below the smallest whole-tensor plan)'
    : null;
}
