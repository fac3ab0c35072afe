/**
 * The JSON report of a plan (`lowwater plan --json`). A plain object, ready
 * for JSON.stringify. Byte figures are integers; names are the graph's.
 */
import type { PlanReport } from '../plan_graph.js';

export interface PlanJson {
  graph: { name: string; ops: number; activationTensors: number };
  options: PlanReport['options'];
  policies: PlanReport['policies'];
  plan: {
    /** Largest sum of live bytes at one step of this plan. */
    peakBytes: number;
    /** Lower bound for the arena of this schedule (= peakBytes: no placement can use less). */
    lowerBoundBytes: number;
    arenaBytes: number;
    /** arenaBytes − lowerBoundBytes. */
    fragmentationBytes: number;
    orderAlgorithm: string;
    /** True when no order can have a smaller peak (see orderLowerBoundBytes). */
    orderExact: boolean;
    /** Proven lower bound on the peak of any order ('auto'/budget: with any chunk counts). */
    orderLowerBoundBytes: number;
    orderNote: string | null;
    /** Peak of the graph's own order with this plan's chunk counts. */
    givenOrderPeakBytes: number;
    placementAlgorithm: string;
    placementOptimal: boolean;
    chunks: PlanReport['chunks'];
    /** The streamed unit (rings, which blocks recompute), or null. */
    stream: PlanReport['stream'];
    order: string[];
    steps: {
      step: number;
      name: string;
      kind: 'op' | 'block' | 'stream';
      ops: string[];
      liveBytes: number;
      arenaBytes: number;
    }[];
    buffers: {
      name: string;
      tensor: number;
      bytes: number;
      firstStep: number;
      lastStep: number;
      offset: number;
      aliasOf: number | null;
      /** Line buffer of a streamed step: rows held (row r in slot r mod rows), bytes per row, mirror rows. */
      ring: { rows: number; rowBytes: number; mirrorRows: number } | null;
    }[];
    estimatedBlocksMs: number;
  };
  planningMs: number;
}

export function planJson(r: PlanReport): PlanJson {
  const g = r.graph;
  const p = r.plan;
  return {
    graph: { name: g.name, ops: g.ops.length, activationTensors: g.tensors.filter((t) => !t.constant).length },
    options: r.options,
    policies: r.policies,
    plan: {
      peakBytes: p.peakBytes,
      lowerBoundBytes: p.peakBytes,
      arenaBytes: p.arenaBytes,
      fragmentationBytes: p.arenaBytes - p.peakBytes,
      orderAlgorithm: p.orderAlgorithm,
      orderExact: r.order.exact,
      orderLowerBoundBytes: r.order.lowerBoundBytes,
      orderNote: r.order.note,
      givenOrderPeakBytes: r.givenOrderPeakBytes,
      placementAlgorithm: p.placementAlgorithm,
      placementOptimal: r.placement.optimal,
      chunks: r.chunks,
      stream: r.stream,
      order: r.stepNames,
      steps: p.steps.map((s, i) => ({
        step: i,
        name: r.stepNames[i]!,
        kind: s.kind,
        ops: r.stepOps[i]!.map((o) => g.ops[o]!.name),
        liveBytes: r.stepBytes[i]!,
        arenaBytes: r.stepArenaBytes[i]!,
      })),
      buffers: p.buffers.map((b) => ({
        name: b.name,
        tensor: b.tensor,
        bytes: b.bytes,
        firstStep: b.firstStep,
        lastStep: b.lastStep,
        offset: b.offset,
        aliasOf: b.aliasOf ?? null,
        ring: b.ring ?? null,
      })),
      estimatedBlocksMs: r.estimatedBlocksMs,
    },
    planningMs: r.planningMs,
  };
}
