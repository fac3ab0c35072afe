/**
 * The pull schedule of a streamed unit and the ring sizes it implies.
 *
 * Stages run in calls of `bandRows` output rows, each call starting where the
 * stage's previous one ended. Before a stage makes rows [r0, r1) it pulls from its
 * producer every input row up to the last one it needs (stages.ts needRows), then
 * runs. The stream's source (stage −1) is its input: rows of the caller's image,
 * produced one per call, or a tensor already whole in the arena (no calls).
 *
 * A ring holds the last N rows its producer wrote, row r in slot r mod N (a line
 * buffer). A call needing rows [lo, hi] while its producer has written up to row P
 * finds them all when N ≥ P − lo + 1; the ring size is the largest such span over
 * the calls. A ring read by the stem's 3x3 conv keeps copies of its first rows
 * after its last slot (`mirrorRows`), so the taps of one output row are always
 * contiguous in memory whatever slot they start at.
 */
import { needRows, type Span, type StageRows } from './stages.js';

export interface StreamCall {
  /** Stage index, or −1 for the source (the stream's input rows). */
  stage: number;
  /** Output rows [r0, r1) made by this call. */
  r0: number;
  r1: number;
  /** Input rows the call reads (empty for the source). */
  reads: Span;
}

export interface ScheduleInput {
  stages: StageRows[];
  /** Output rows per call, per stage. */
  bandRows: number[];
  /** Per stage: keeps its expanded rows in a ring across calls. */
  ringExpanded: boolean[];
  /** The source is the caller's image (rows produced on demand); false: a whole tensor in the arena. */
  externalSource: boolean;
}

export interface StreamSchedule {
  calls: StreamCall[];
  /** Rows each stage's input ring must hold (for a whole source tensor: its height). */
  ringRows: number[];
}

/** The calls of a streamed unit in execution order, and the ring sizes they need. */
export function pullSchedule(input: ScheduleInput): StreamSchedule {
  const { stages, bandRows, ringExpanded, externalSource } = input;
  const n = stages.length;
  if (n === 0) throw new Error('a stream needs at least one stage');
  bandRows.forEach((b, i) => {
    if (!(Number.isInteger(b) && b >= 1)) throw new Error(`stage ${i}: band of ${b} rows`);
  });
  const produced = new Array<number>(n + 1).fill(0); // index k + 1 for stage k; index 0 the source
  const heights = [stages[0]!.stage.inH, ...stages.map((s) => s.stage.outH)];
  if (!externalSource) produced[0] = heights[0]!;
  const ringRows = new Array<number>(n).fill(0);
  const calls: StreamCall[] = [];
  const pull = (k: number, upTo: number): void => {
    // k = −1: the source, one row per call.
    const idx = k + 1;
    while (produced[idx]! < upTo) {
      const r0 = produced[idx]!;
      if (k < 0) {
        calls.push({ stage: -1, r0, r1: r0 + 1, reads: { lo: 0, hi: -1 } });
        produced[idx] = r0 + 1;
        continue;
      }
      const r1 = Math.min(heights[idx]!, r0 + bandRows[k]!);
      const reads = needRows(stages[k]!, r0, r1, ringExpanded[k]!);
      if (reads.hi >= reads.lo) {
        pull(k - 1, reads.hi + 1);
        const written = produced[idx - 1]! - 1;
        ringRows[k] = Math.max(ringRows[k]!, written - reads.lo + 1);
      }
      calls.push({ stage: k, r0, r1, reads });
      produced[idx] = r1;
    }
  };
  pull(n - 1, heights[n]!);
  if (!externalSource) ringRows[0] = heights[0]!;
  return { calls, ringRows };
}
