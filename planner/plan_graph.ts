/**
 * planGraph: the planner's entry point. From a Graph alone (no weights) it
 * decides the order of steps, the chunk count of every inverted residual
 * block, and the arena offset of every buffer, and returns the Plan the
 * executor runs.
 *
 * Stages (one file each, algorithms chosen by name):
 *   blocks.ts (find blocks) → units.ts (ops/blocks as nodes, aliasing.ts storages)
 *   → order/ (order search) + chunks.ts (chunk counts) → memory.ts (live bytes,
 *   in-place writes) → lifetimes.ts (buffers) → placement/ (offsets) → verify.ts
 *
 * ```ts
 * import { planGraph, verifyPlan } from './planner/plan_graph.js';
 * const plan = planGraph(buildMobileNetV2({ alpha: 1, resolution: 224 }));              // chunks 'auto'
 * const t6 = planGraph(graph, { chunks: 6 });                                           // t = 6 in every block
 * const fit = planGraph(graph, { budgetBytes: 2 * 1024 * 1024 });                       // fastest plan ≤ 2 MiB
 * verifyPlan(graph, plan);                                                              // throws on any conflict
 * ```
 *
 * Options
 * - chunks: 'auto' (default) minimizes the network's peak first (every block at
 *   one channel per chunk, exact order), then gives each block the cheapest
 *   chunk count whose step does not raise that peak. 'none' runs op by op with
 *   no fusion. A number N runs t = min(N, C_exp) chunks in every block.
 * - budgetBytes: with chunks 'auto', choose chunk counts (and order) with the
 *   smallest estimated time whose arena fits the budget; when no whole-tensor plan
 *   fits, stream a prefix of the network row by row (stream/); throws
 *   PlanRefusedError (with `minimumBytes`) when no plan can. With 'none' or N,
 *   only checks the arena against the budget.
 * - stream: 'auto' (default), 'on' (always stream: the fastest streamed plan under
 *   the budget, else the smallest), 'off'.
 * - order: an ORDER_ALGORITHMS name ('exact' default, 'greedy', 'beam', 'given').
 * - placement: a PLACEMENT_ALGORITHMS name ('hill-climb' default, 'greedy-by-size', 'exact').
 * - timeLimitMs: limit of the whole call (default 5000). The order searches
 *   get ORDER_SEARCH_SHARE of it, the rest is left for placement and the
 *   report (after a long search, collecting the search's garbage alone takes
 *   a few hundred ms). Past it the exact search falls back to a heuristic and
 *   the plan's orderAlgorithm says so (with the lower bound in the report).
 */
import { validateGraph } from './builder.js';
import { detectBlocks, blockFootprintBytes, chunkScratchBytes, type InvertedResidualBlock } from './blocks.js';
import { DEFAULT_BLOCK_COST_MODEL, estimateBlockNs, type BlockCostModel } from './block_cost.js';
import { formatBytes } from './bytes.js';
import {
  blocksEstimatedNs,
  cheapestUnderLimit,
  chunkCandidates,
  fixedChunkChannels,
  minimalChunkChannels,
} from './chunks.js';
import type { Graph } from './ir.js';
import { tensorBytes } from './ir.js';
import { arenaUsePerStep, buildStepsAndBuffers, liveBytesPerStep } from './lifetimes.js';
import { evaluateOrder } from './memory.js';
import { DEFAULT_ORDER_OPTIONS, orderAlgorithm, type OrderResult } from './order/index.js';
import { DEFAULT_PLACEMENT_OPTIONS, placementAlgorithm, type PlacementItem } from './placement/index.js';
import type { Plan } from './plan.js';
import { buildUnitGraph, memoryProblem, type StreamSpec, type UnitGraph } from './units.js';
import { streamChain, stageRows, type StreamStage } from './stream/stages.js';
import {
  chooseStreamConfig,
  smallestStreamConfig,
  stageNs,
  streamFootprint,
  streamNs,
  type StageConfig,
  type StreamPath,
} from './stream/config.js';

export { verifyPlan, PlanVerificationError } from './verify.js';

export interface PlanOptions {
  chunks?: 'auto' | 'none' | number;
  budgetBytes?: number;
  order?: string;
  placement?: string;
  timeLimitMs?: number;
  /** Offset alignment in bytes (default 16). */
  alignment?: number;
  /**
   * Time model for choosing chunk counts (default DEFAULT_BLOCK_COST_MODEL): constants per
   * numeric path; each block is estimated on its own path (1-byte activations: the integer kernel).
   */
  costModel?: BlockCostModel;
  /** Seed of randomized placement search (default 1). */
  seed?: number;
  /**
   * Row-streamed execution (planner/stream/): 'auto' (default) streams only when a
   * budget cannot be met otherwise; 'on' always streams (the fastest streamed plan
   * under the budget, or without one the smallest); 'off' never.
   */
  stream?: 'auto' | 'on' | 'off';
}

/** The planner cannot meet the request (budget below the smallest achievable memory). */
export class PlanRefusedError extends Error {
  constructor(
    message: string,
    /** Smallest arena (bytes) the planner can reach for this request. */
    readonly minimumBytes: number,
  ) {
    super(message);
    this.name = 'PlanRefusedError';
  }
}

export interface BlockChoice {
  block: string;
  step: number;
  stem: boolean;
  ops: { expand: string; depthwise: string; project: string; add: string | null };
  expandedChannels: number;
  chunks: number;
  chunkChannels: number;
  /** Section 5.1 footprint |x| + |y| + one chunk, in bytes. */
  footprintBytes: number;
  scratchBytes: number;
  estimatedMs: number;
}

/** One stage of the plan's streamed unit, as the reports show it. */
export interface StreamStageReport {
  stage: string;
  kind: 'block' | 'pointwise' | 'conv_pool' | 'row_head';
  ops: string[];
  /** Blocks: 'ring' keeps expanded rows across calls, 'recompute' makes them again for every call. */
  expanded: 'ring' | 'recompute' | null;
  bandRows: number;
  groupChannels: number;
  chunks: number;
  tileCols: number;
  /** Rows of the input ring (null: the input is a whole tensor in the arena) and its bytes. */
  inputRingRows: number | null;
  inputRingBytes: number;
  /** Expanded ring, pool sums or a row head's vectors and broadcast rows, for the whole stream. */
  stateBytes: number;
  /** Working bytes while the stage runs (the stream's work buffer is the largest). */
  workBytes: number;
  /** Estimated time over all passes. */
  estimatedMs: number;
}

export interface StreamReport {
  /** Plan step of the streamed unit. */
  step: number;
  name: string;
  /** The input is the caller's image, outside the arena; `inputTensorBytes` is its size at the model's resolution. */
  externalInput: boolean;
  inputTensorBytes: number;
  stages: StreamStageReport[];
  ringBytes: number;
  stateBytes: number;
  workBytes: number;
  /** Everything the stream holds while it runs (rings + states + work). */
  totalBytes: number;
  /** Blocks that recompute their expanded rows. */
  recomputingBlocks: string[];
  /**
   * Passes over the stages: 2 when a row head pools the stream's last feature map (the
   * first pass sums its rows, the second makes the head's rows), else 1.
   */
  passes: 1 | 2;
  estimatedMs: number;
}

export interface PlanReport {
  graph: Graph;
  plan: Plan;
  options: {
    stream: 'auto' | 'on' | 'off';
    chunks: 'auto' | 'none' | number;
    budgetBytes: number | null;
    order: string;
    placement: string;
    timeLimitMs: number;
    alignment: number;
  };
  policies: {
    /** Every activation tensor in its own buffer for the whole run. */
    naiveBytes: number;
    /** Peak of the op-by-op schedule (no fusion) in the graph's own order. */
    perLayerBytes: number;
    /** Smallest peak with every block at one channel per chunk (auto and budget modes). */
    minimumPeakBytes: number | null;
  };
  /** Live bytes of the per-layer policy at each of its steps (one op per step). */
  perLayerStepBytes: number[];
  /** Live bytes, highest arena byte in use, step names and IR ops of each step of the plan. */
  stepBytes: number[];
  stepArenaBytes: number[];
  stepNames: string[];
  stepOps: number[][];
  /** Peak of the graph's own order with the plan's chunk counts. */
  givenOrderPeakBytes: number;
  /**
   * Order search outcome for the plan's chunk counts. lowerBoundBytes: no
   * order has a smaller peak with these chunk counts; exact: the plan's peak
   * equals it (the order is a proven minimum).
   */
  order: { algorithm: string; exact: boolean; lowerBoundBytes: number; note: string | null };
  placement: { algorithm: string; optimal: boolean };
  chunks: BlockChoice[];
  /** The streamed unit, when the plan has one. */
  stream: StreamReport | null;
  /** Estimated time of all blocks and of the streamed unit (block_cost.ts, stream/config.ts), ms. */
  estimatedBlocksMs: number;
  planningMs: number;
}

interface Resolved {
  stream: 'auto' | 'on' | 'off';
  chunks: 'auto' | 'none' | number;
  budget: number | undefined;
  order: string;
  placement: string;
  timeLimitMs: number;
  alignment: number;
  model: BlockCostModel;
  seed: number;
}

function resolve(options: PlanOptions): Resolved {
  const chunks = options.chunks ?? 'auto';
  if (chunks !== 'auto' && chunks !== 'none' && !(Number.isInteger(chunks) && chunks >= 1))
    throw new Error(`chunks must be 'auto', 'none' or a whole number ≥ 1, got ${String(chunks)}`);
  const budget = options.budgetBytes;
  if (budget !== undefined && !(Number.isSafeInteger(budget) && budget > 0))
    throw new Error(`budgetBytes must be a whole number of bytes > 0, got ${budget}`);
  const order = options.order ?? 'exact';
  orderAlgorithm(order);
  const placement = options.placement ?? 'hill-climb';
  placementAlgorithm(placement);
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_ORDER_OPTIONS.timeLimitMs;
  if (!(timeLimitMs > 0)) throw new Error(`timeLimitMs must be > 0, got ${timeLimitMs}`);
  const alignment = options.alignment ?? DEFAULT_PLACEMENT_OPTIONS.alignment;
  if (!(Number.isInteger(alignment) && alignment >= 1))
    throw new Error(`alignment must be a whole number ≥ 1, got ${alignment}`);
  const stream = options.stream ?? 'auto';
  if (stream !== 'auto' && stream !== 'on' && stream !== 'off')
    throw new Error(`stream must be 'auto', 'on' or 'off', got ${String(stream)}`);
  if (stream === 'on' && chunks === 'none')
    throw new Error("stream 'on' runs blocks fused (Section 5.1); it cannot be combined with chunks 'none'");
  return {
    stream,
    chunks,
    budget,
    order,
    placement,
    timeLimitMs,
    alignment,
    model: options.costModel ?? DEFAULT_BLOCK_COST_MODEL,
    seed: options.seed ?? 1,
  };
}

interface Built {
  plan: Plan;
  /** Unit indices in step order. */
  order: number[];
  stepBytes: number[];
  placementOptimal: boolean;
}

/** Buffers, lifetimes, placement and the Plan for one order and chunk choice. */
function build(ug: UnitGraph, order: number[], cc: number[], orderName: string, r: Resolved): Built {
  const problem = memoryProblem(ug, cc);
  const ev = evaluateOrder(problem, order);
  const { steps, buffers } = buildStepsAndBuffers({ units: ug, order, chunkChannels: cc, inPlace: ev.inPlace });
  const live = liveBytesPerStep(buffers, steps.length);
  const peak = Math.max(0, ...live);
  if (peak !== ev.peakBytes)
    throw new Error(`internal: buffers give a peak of ${peak} bytes, the memory model ${ev.peakBytes}`);
  const phys: number[] = [];
  buffers.forEach((b, i) => {
    if (b.aliasOf === undefined) phys.push(i);
  });
  const items: PlacementItem[] = phys.map((i) => buffers[i]!);
  const placed = placementAlgorithm(r.placement)(items, {
    ...DEFAULT_PLACEMENT_OPTIONS,
    alignment: r.alignment,
    seed: r.seed,
  });
  phys.forEach((i, k) => (buffers[i]!.offset = placed.offsets[k]!));
  const tensorOffsets = new Map<number, number>();
  const ownerOffset = new Map<number, number>();
  for (const b of buffers) if (b.aliasOf === undefined && b.tensor >= 0 && !b.ring) ownerOffset.set(b.tensor, b.offset);
  for (const b of buffers) {
    if (b.aliasOf !== undefined) b.offset = ownerOffset.get(b.aliasOf)!;
    if (b.tensor >= 0 && !b.ring) tensorOffsets.set(b.tensor, b.offset);
  }
  const plan: Plan = {
    graphName: ug.graph.name,
    steps,
    buffers,
    tensorOffsets,
    arenaBytes: placed.arenaBytes,
    peakBytes: peak,
    orderAlgorithm: orderName,
    placementAlgorithm: placed.algorithm,
  };
  return { plan, order, stepBytes: ev.stepBytes, placementOptimal: placed.optimal };
}

/** Part of timeLimitMs the order searches may use. */
export const ORDER_SEARCH_SHARE = 0.85;

/** Plans the graph and returns the Plan with everything the reports show. */
export function planGraphReport(graph: Graph, options: PlanOptions = {}): PlanReport {
  const t0 = performance.now();
  const r = resolve(options);
  if (graph.ops.length === 0) throw new Error(`graph '${graph.name}' has no ops to plan`);
  validateGraph(graph);
  // One time limit for every order search of this call (budget mode searches several times).
  const deadline = Date.now() + r.timeLimitMs * ORDER_SEARCH_SHARE;
  let refused: PlanRefusedError | undefined;
  // 'auto' streams only where the planner chooses chunk counts: with 'none' or N a budget is a check.
  if (r.stream === 'off' || (r.stream === 'auto' && (r.budget === undefined || r.chunks !== 'auto')))
    return planCore(graph, r, t0, deadline);
  if (r.stream === 'auto') {
    try {
      return planCore(graph, r, t0, deadline);
    } catch (e) {
      if (!(e instanceof PlanRefusedError)) throw e;
      refused = e;
    }
  }
  const streamed = planStreamed(graph, r, t0, deadline);
  if (streamed.report) return streamed.report;
  const minimum = Math.min(refused?.minimumBytes ?? Infinity, streamed.minimumBytes);
  if (!Number.isFinite(minimum)) {
    if (refused) throw refused;
    throw new Error(`'${graph.name}' cannot run streamed: ${streamed.why ?? 'no streamed plan'}`);
  }
  throw new PlanRefusedError(
    `budget ${formatBytes(r.budget!)} is below the smallest plan lowwater can make for '${graph.name}'${
      streamed.why ? ` (${streamed.why})` : ''
    }: ${formatBytes(minimum)}; give a budget of at least ${minimum} bytes`,
    minimum,
  );
}

/** Numeric path of a stream from its activations' width. */
const pathOf = (stages: StreamStage[]): StreamPath => (stages[0]!.elementBytes === 4 ? 'float' : 'integer');

/** Stream prefixes worth planning: each ends at a block or at the head (its output is then whole in the arena). */
function streamPrefixes(chain: StreamStage[]): StreamStage[][] {
  const out: StreamStage[][] = [];
  chain.forEach((s, i) => {
    if (s.kind !== 'pointwise') out.push(chain.slice(0, i + 1));
  });
  return out.reverse();
}

function streamSpec(graph: Graph, stages: StreamStage[], configs: StageConfig[]): StreamSpec {
  const rows = stages.map((s) => stageRows(graph, s));
  return {
    name: `stream ${stages[0]!.name}..${stages[stages.length - 1]!.name}`,
    stages,
    configs,
    externalInput: true,
    footprint: streamFootprint(rows, configs, pathOf(stages), true),
  };
}

/**
 * Streamed plans: for each prefix of the network's stream chain, the fastest stage
 * configuration whose stream fits the budget next to its output tensor, the rest of the
 * graph planned as usual around it; the plan with the smallest estimated time wins. Without
 * a budget ('on'): the whole chain in its smallest configuration.
 */
function planStreamed(
  graph: Graph,
  r: Resolved,
  t0: number,
  deadline: number,
): { report?: PlanReport; minimumBytes: number; why?: string } {
  const chain = streamChain(graph);
  if (chain.length === 0)
    return { minimumBytes: Infinity, why: 'it does not start with blocks that can run row by row' };
  const path = pathOf(chain);
  if (r.budget === undefined) {
    const rows = chain.map((s) => stageRows(graph, s));
    const configs = smallestStreamConfig(rows, path, true)!;
    return { report: planCore(graph, r, t0, deadline, streamSpec(graph, chain, configs)), minimumBytes: 0 };
  }
  const budget = r.budget;
  let best: { report: PlanReport; ns: number } | undefined;
  // Each prefix with the fastest stream configuration that fits next to its output, and a
  // bound on its time: the stream's estimate + every other block at its fastest. Prefixes are
  // planned in the order of that bound, until the bound cannot beat the best plan found.
  const fastest = new Map<number, number>();
  for (const b of detectBlocks(graph))
    fastest.set(b.expand, Math.min(...chunkCandidates(graph, b, r.model).map((c) => c.estimatedNs)));
  const candidates = streamPrefixes(chain).flatMap((stages) => {
    const rows = stages.map((s) => stageRows(graph, s));
    const around = tensorBytes(graph.tensors[stages[stages.length - 1]!.output]!);
    // Placement aligns every buffer: leave it a little room, then take what the arena shows.
    const limit = budget - around - 16 * (stages.length * 2 + 4);
    const configs = limit > 0 ? chooseStreamConfig(rows, path, limit, true, r.model) : undefined;
    if (!configs) return [];
    const inStream = new Set(stages.flatMap((s) => (s.block ? [s.block.expand] : [])));
    let bound = streamNs(rows, configs, path, r.model);
    for (const [e, ns] of fastest) if (!inStream.has(e)) bound += ns;
    return [{ stages, rows, limit, configs, bound }];
  });
  candidates.sort((a, b) => a.bound - b.bound);
  for (const c of candidates) {
    if (best && c.bound >= best.ns) break;
    let { limit, configs } = c;
    for (let attempt = 0; attempt < 3; attempt++) {
      let report: PlanReport;
      try {
        report = planCore(graph, r, t0, deadline, streamSpec(graph, c.stages, configs));
      } catch (e) {
        if (!(e instanceof PlanRefusedError)) throw e;
        break;
      }
      if (report.plan.arenaBytes <= budget) {
        const ns = report.estimatedBlocksMs * 1e6;
        if (!best || ns < best.ns) best = { report, ns };
        break;
      }
      limit -= report.plan.arenaBytes - budget;
      const next = limit > 0 ? chooseStreamConfig(c.rows, path, limit, true, r.model) : undefined;
      if (!next) break;
      configs = next;
    }
  }
  if (best) return { report: best.report, minimumBytes: best.report.plan.arenaBytes };
  // Nothing fits: the smallest streamed plan (the whole chain, every stage at its fewest bytes) says how far off.
  const rows = chain.map((s) => stageRows(graph, s));
  const smallest = planCore(
    graph,
    { ...r, budget: undefined },
    t0,
    deadline,
    streamSpec(graph, chain, smallestStreamConfig(rows, path, true)!),
  );
  return { minimumBytes: smallest.plan.arenaBytes, why: 'streamed row by row, every block at its fewest bytes' };
}

/** Plans the graph (with the streamed unit `stream` as one node, when given). */
function planCore(graph: Graph, r: Resolved, t0: number, deadline: number, stream?: StreamSpec): PlanReport {
  const streamBlocks = new Set(stream ? stream.stages.flatMap((s) => (s.block ? [s.block.expand] : [])) : []);
  const blocks: InvertedResidualBlock[] =
    r.chunks === 'none' ? [] : detectBlocks(graph).filter((b) => !streamBlocks.has(b.expand));
  const ug = buildUnitGraph(graph, blocks, stream);
  const orderFn = orderAlgorithm(r.order);
  const search = (cc: number[]): OrderResult =>
    orderFn(memoryProblem(ug, cc), { ...DEFAULT_ORDER_OPTIONS, timeLimitMs: Math.max(1, deadline - Date.now()) });
  const fmtMin = (res: OrderResult) =>
    res.exact
      ? formatBytes(res.peakBytes)
      : `${formatBytes(res.peakBytes)} found by ${res.algorithm} (proven lower bound ${formatBytes(res.lowerBoundBytes)})`;

  let built: Built;
  let result: OrderResult;
  let cc: number[];
  let lowerBound: number;
  let minimumPeak: number | null = null;
  if (r.chunks === 'none' || typeof r.chunks === 'number') {
    cc = r.chunks === 'none' ? [] : fixedChunkChannels(blocks, r.chunks);
    result = search(cc);
    lowerBound = result.lowerBoundBytes;
    built = build(ug, result.order, cc, result.algorithm, r);
    if (r.budget !== undefined && built.plan.arenaBytes > r.budget) {
      const what = r.chunks === 'none' ? 'op by op (--chunks none)' : `with t = ${r.chunks}`;
      throw new PlanRefusedError(
        `budget ${formatBytes(r.budget)} is below the arena of '${graph.name}' run ${what}: ${formatBytes(built.plan.arenaBytes)} (peak ${fmtMin(result)}); with chunks 'auto' the planner chooses chunk counts to fit a budget`,
        built.plan.arenaBytes,
      );
    }
  } else {
    const cc0 = minimalChunkChannels(blocks);
    const r0 = search(cc0);
    minimumPeak = r0.peakBytes;
    lowerBound = r0.lowerBoundBytes;
    const ev0 = evaluateOrder(memoryProblem(ug, cc0), r0.order);
    if (r.budget === undefined) {
      cc = cheapestUnderLimit(ug, r0.order, ev0.stepBytes, cc0, r0.peakBytes, r.model)!;
      result = r0;
      built = build(ug, r0.order, cc, r0.algorithm, r);
    } else {
      const budget = r.budget;
      if (budget < r0.peakBytes) {
        const found = r0.exact ? 'the smallest peak' : 'the smallest peak the planner found for';
        throw new PlanRefusedError(
          `budget ${formatBytes(budget)} is below ${found} '${graph.name}' can reach: ${fmtMin(r0)}, with every block at one channel per chunk; give a budget of at least ${r0.peakBytes} bytes${r0.exact ? '' : ' or a longer time limit'}`,
          r0.peakBytes,
        );
      }
      let target = budget;
      let best: { built: Built; res: OrderResult; cc: number[] } | undefined;
      const peakOf = (order: number[], c: number[]) => evaluateOrder(memoryProblem(ug, c), order).peakBytes;
      for (let attempt = 0; attempt < 4 && target >= r0.peakBytes; attempt++) {
        let order = r0.order;
        let orderAlgorithmName = r0.algorithm;
        let choice = cheapestUnderLimit(ug, order, ev0.stepBytes, cc0, target, r.model)!;
        let res: OrderResult = r0;
        // Alternate: the best order for these chunk counts, then the cheapest
        // chunk counts that order allows under the limit, while that gets cheaper.
        // `res` is the search for the current chunk counts (its lower bound holds for them).
        for (let k = 0; ; k++) {
          const rk = search(choice);
          const current = peakOf(order, choice);
          res = rk;
          if (rk.peakBytes <= current) {
            order = rk.order;
            orderAlgorithmName = rk.algorithm;
          }
          if (k === 3 || blocks.length === 0) break;
          const ev = evaluateOrder(memoryProblem(ug, choice), order);
          const next = cheapestUnderLimit(ug, order, ev.stepBytes, choice, target, r.model)!;
          if (blocksEstimatedNs(ug, next, r.model) >= blocksEstimatedNs(ug, choice, r.model)) break;
          choice = next;
        }
        const b = build(ug, order, choice, orderAlgorithmName, r);
        best = { built: b, res: { ...res, algorithm: orderAlgorithmName }, cc: choice };
        if (b.plan.arenaBytes <= budget) break;
        // Fragmentation pushed the arena over: aim the live bytes lower by the excess.
        target -= b.plan.arenaBytes - budget;
      }
      if (!best || best.built.plan.arenaBytes > budget) {
        const reach = best ? best.built.plan.arenaBytes : r0.peakBytes;
        throw new PlanRefusedError(
          `budget ${formatBytes(budget)}: '${graph.name}' needs a peak of ${formatBytes(r0.peakBytes)} but its buffers could not be placed in under ${formatBytes(reach)}; give a budget of at least ${reach} bytes`,
          reach,
        );
      }
      built = best.built;
      result = best.res;
      lowerBound = best.res.lowerBoundBytes;
      cc = best.cc;
    }
  }

  const plan = built.plan;
  const S = plan.steps.length;
  const problem = memoryProblem(ug, cc);
  const given = evaluateOrder(
    problem,
    ug.units.map((_, i) => i),
  );
  const perLayerUg = r.chunks === 'none' ? ug : buildUnitGraph(graph, []);
  const perLayer = evaluateOrder(
    memoryProblem(perLayerUg, []),
    perLayerUg.units.map((_, i) => i),
  );
  const naive = graph.tensors.reduce(
    (s, t) => (!t.constant && (t.producer >= 0 || graph.inputs.includes(t.id)) ? s + tensorBytes(t) : s),
    0,
  );
  const chunks: BlockChoice[] = [];
  plan.steps.forEach((st, i) => {
    if (st.kind !== 'block') return;
    const b = blocks.find((x) => x.expand === st.expand)!;
    const sc = chunkScratchBytes(b, st.chunkChannels);
    chunks.push({
      block: b.name,
      step: i,
      stem: b.stem,
      ops: {
        expand: graph.ops[b.expand]!.name,
        depthwise: graph.ops[b.depthwise]!.name,
        project: graph.ops[b.project]!.name,
        add: b.add >= 0 ? graph.ops[b.add]!.name : null,
      },
      expandedChannels: b.expandedChannels,
      chunks: st.chunks,
      chunkChannels: st.chunkChannels,
      footprintBytes: blockFootprintBytes(graph, b, st.chunkChannels),
      scratchBytes: sc.expand + sc.depthwise,
      estimatedMs: estimateBlockNs(graph, b, st.chunks, r.model) / 1e6,
    });
  });
  const exact = plan.peakBytes <= lowerBound;
  const streamReport = stream ? reportStream(graph, plan, stream, r) : null;
  return {
    graph,
    plan,
    options: {
      stream: r.stream,
      chunks: r.chunks,
      budgetBytes: r.budget ?? null,
      order: r.order,
      placement: r.placement,
      timeLimitMs: r.timeLimitMs,
      alignment: r.alignment,
    },
    policies: { naiveBytes: naive, perLayerBytes: perLayer.peakBytes, minimumPeakBytes: minimumPeak },
    perLayerStepBytes: perLayer.stepBytes,
    stepBytes: built.stepBytes,
    stepArenaBytes: arenaUsePerStep(plan.buffers, S),
    stepNames: built.order.map((u) => ug.units[u]!.name),
    stepOps: built.order.map((u) => ug.units[u]!.ops),
    givenOrderPeakBytes: given.peakBytes,
    order: {
      algorithm: result.algorithm,
      exact,
      lowerBoundBytes: Math.min(lowerBound, plan.peakBytes),
      note: result.note ?? null,
    },
    placement: { algorithm: plan.placementAlgorithm, optimal: built.placementOptimal },
    chunks,
    stream: streamReport,
    estimatedBlocksMs: blocksEstimatedNs(ug, cc, r.model) / 1e6 + (streamReport?.estimatedMs ?? 0),
    planningMs: performance.now() - t0,
  };
}

function reportStream(graph: Graph, plan: Plan, spec: StreamSpec, r: Resolved): StreamReport {
  const step = plan.steps.findIndex((s) => s.kind === 'stream');
  const st = plan.steps[step];
  if (!st || st.kind !== 'stream') throw new Error('internal: the streamed unit has no step');
  const path = pathOf(spec.stages);
  const fp = spec.footprint;
  const passes = st.passes;
  const stages = spec.stages.map((s, k): StreamStageReport => {
    const p = st.stages[k]!;
    const sb = fp.stageBytes[k]!;
    return {
      stage: s.name,
      kind: s.kind,
      ops: s.ops.map((o) => graph.ops[o]!.name),
      expanded: s.kind === 'block' ? p.expanded : null,
      bandRows: p.bandRows,
      groupChannels: p.groupChannels,
      chunks: p.chunks,
      tileCols: p.tileCols,
      inputRingRows: p.inputBuffer >= 0 && plan.buffers[p.inputBuffer]!.ring ? fp.ringRows[k]! : null,
      inputRingBytes: fp.ringBytes[k]!,
      stateBytes: sb.expandRing + sb.poolSums + sb.headState,
      workBytes: sb.expandWork + sb.depthwiseWork,
      estimatedMs:
        (stageNs(stageRows(graph, s), spec.configs[k]!, path, r.model) / 1e6) * (s.kind === 'row_head' ? 1 : passes),
    };
  });
  const ringBytes = fp.ringBytes.reduce((a, b) => a + b, 0);
  const stateBytes = fp.stageBytes.reduce((a, b) => a + b.expandRing + b.poolSums + b.headState, 0);
  return {
    step,
    name: spec.name,
    externalInput: spec.externalInput,
    inputTensorBytes: tensorBytes(graph.tensors[spec.stages[0]!.input]!),
    stages,
    ringBytes,
    stateBytes,
    workBytes: fp.workBytes,
    totalBytes: fp.totalBytes,
    recomputingBlocks: stages.filter((s) => s.expanded === 'recompute').map((s) => s.stage),
    passes,
    estimatedMs: stages.reduce((a, s) => a + s.estimatedMs, 0),
  };
}

/**
 * Plans `graph` with a given streamed unit: the first `stages` stages of its stream chain
 * (all by default) run with `configs` (one per stage; planner/stream/config.ts
 * stageOptions lists the valid ones). For tests and benchmarks that need a particular
 * ring / recompute choice; the rest of the graph is planned as planGraphReport does.
 */
export function planGraphWithStream(
  graph: Graph,
  stream: { stages?: number; configs: StageConfig[] },
  options: PlanOptions = {},
): PlanReport {
  const t0 = performance.now();
  const r = resolve({ ...options, stream: 'on' });
  validateGraph(graph);
  const chain = streamChain(graph);
  const n = stream.stages ?? chain.length;
  if (n < 1 || n > chain.length)
    throw new Error(`the stream chain of '${graph.name}' has ${chain.length} stages, not ${n}`);
  if (stream.configs.length !== n) throw new Error(`${stream.configs.length} stage configurations for ${n} stages`);
  const deadline = Date.now() + r.timeLimitMs * ORDER_SEARCH_SHARE;
  return planCore(graph, r, t0, deadline, streamSpec(graph, chain.slice(0, n), stream.configs));
}

/**
 * Plans `graph` for the executor (see the file comment for options). Throws
 * PlanRefusedError when a budget cannot be met, Error for bad options.
 */
export function planGraph(graph: Graph, options: PlanOptions = {}): Plan {
  return planGraphReport(graph, options).plan;
}
