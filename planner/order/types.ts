/**
 * Order search: one interface, several algorithms (order/index.ts holds the
 * name-keyed table). An algorithm takes a MemoryProblem and returns a
 * topological order of its nodes with the order's peak live bytes and the best
 * lower bound it knows on the peak of any order.
 */
import type { MemoryProblem } from '../memory.js';

export interface OrderOptions {
  /** Wall-clock limit for the whole search (the exact search falls back to a heuristic when it runs out). */
  timeLimitMs: number;
  /** Limit on search states kept at once (memory guard; also makes a cut-off deterministic). */
  maxStates: number;
}

export const DEFAULT_ORDER_OPTIONS: Readonly<OrderOptions> = Object.freeze({ timeLimitMs: 5000, maxStates: 2_000_000 });

export interface OrderResult {
  order: number[];
  peakBytes: number;
  /** Best known lower bound on the peak of any topological order (= peakBytes when exact). */
  lowerBoundBytes: number;
  /** True when the order is proven to have the minimum peak. */
  exact: boolean;
  /** What produced the order, e.g. 'exact-dp', 'beam-256', 'greedy', 'given'. */
  algorithm: string;
  /** Why a fallback happened, or other detail worth reporting. */
  note?: string;
}

export type OrderAlgorithm = (problem: MemoryProblem, options: OrderOptions) => OrderResult;
