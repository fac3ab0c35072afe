/**
 * How each stage of a streamed unit runs, what that costs in memory and time, and
 * the choice of the fastest configuration that fits a memory limit.
 *
 * A block stage makes `bandRows` output rows per call, in tiles of `tileCols`
 * columns, its inner channels in groups of `groupChannels` (the Section 5.1 chunk):
 * - expanded 'ring': the expanded rows stay in a ring of all C_exp channels across
 *   calls (each expanded row is computed once; the input ring only holds the rows not
 *   yet expanded, plus the residual row);
 * - expanded 'recompute': every call expands the rows and columns its tiles read from
 *   the narrow input ring (MCUNetV2's recomputed halo, in rows and columns), so no
 *   expanded row outlives a call; groups of fewer than C_exp channels add the
 *   projection's int32 partial sums (integer path) after the expanded window.
 * The float kernel has no column tiles (its projection accumulates in the output
 * rows), so float stages always use whole rows.
 *
 * Memory of a stream = its rings (one per stage input, mirror rows included), the
 * expanded rings of 'ring' blocks, the head's pool sums, and one working area the
 * stages share (only one stage runs at a time): the largest expanded window +
 * partial sums + depthwise tile of any stage.
 */
import { DEFAULT_BLOCK_COST_MODEL, type BlockCostModel, type KernelCostModel } from '../block_cost.js';
import { pullSchedule } from './schedule.js';
import {
  expandedRowsComputed,
  expandedRowsOf,
  type BlockRows,
  type HeadTensorKind,
  type RowHead,
  type StageRows,
  type StreamStage,
} from './stages.js';

export type ExpandedMode = 'recompute' | 'ring';

export interface StageConfig {
  bandRows: number;
  expanded: ExpandedMode;
  /** Inner channels per group (blocks; C_exp for the others). */
  groupChannels: number;
  /** Output columns per tile (pixels per tile of the head's conv). */
  tileCols: number;
}

/** Numeric path of the stream: integer kernels (1-byte activations) or float32. */
export type StreamPath = 'integer' | 'float';

const align4 = (n: number) => Math.ceil(n / 4) * 4;
const round = (n: number, m: number) => Math.ceil(n / m) * m;

/** Rows (or columns) of an expanded window for `n` outputs: (n − 1)·s + 2·d + 1, at most the image. */
const windowOf = (n: number, s: number, d: number, size: number) => Math.min(size, (n - 1) * s + 2 * d + 1);

/** Per-stage memory of a configuration, in bytes. */
export interface StageBytes {
  /** Expanded ring of a 'ring' block (lives for the whole stream). */
  expandRing: number;
  /** The head's sums (lives for the whole stream). */
  poolSums: number;
  /** A row head's pool sums, vectors and broadcast rows (headLayout; lives for the whole stream). */
  headState: number;
  /** Working bytes while the stage runs: expanded window (+ partial sums) and depthwise tile, or the head's conv tile. */
  expandWork: number;
  depthwiseWork: number;
  /** Byte offset of the partial sums in the expanded work area (integer recompute with groups), else -1. */
  accOffset: number;
  /** Mirror rows its input ring needs (the stem's 3x3 conv reads rows contiguously). */
  mirrorRows: number;
}

export function stageBytes(s: StageRows, c: StageConfig, path: StreamPath): StageBytes {
  const st = s.stage;
  const eb = st.elementBytes;
  const none: StageBytes = {
    expandRing: 0,
    poolSums: 0,
    headState: 0,
    expandWork: 0,
    depthwiseWork: 0,
    accOffset: -1,
    mirrorRows: 0,
  };
  if (st.kind === 'pointwise') return none;
  if (st.kind === 'row_head') {
    const l = headLayout(st);
    return { ...none, headState: l.stateBytes, expandWork: l.workBytes };
  }
  if (st.kind === 'conv_pool') return { ...none, poolSums: st.outC * 4, expandWork: c.tileCols * st.outC * eb };
  const br = s.rows!;
  const mirrorRows = br.ekh > 1 ? (br.ekh - 1) * br.edh : 0;
  const R = c.bandRows;
  const eRows = windowOf(R, br.sh, br.dh, br.He);
  const cols = path === 'float' ? st.outW : c.tileCols;
  if (c.expanded === 'ring') {
    return {
      ...none,
      mirrorRows,
      expandRing: eRows * br.We * br.Cexp * eb,
      depthwiseWork: R * cols * br.Cexp * eb,
    };
  }
  const G = c.groupChannels;
  const eCols = path === 'float' ? br.We : windowOf(cols, br.sw, br.dw, br.We);
  const e = eRows * eCols * G * eb;
  const acc = path === 'integer' && G < br.Cexp ? R * cols * st.outC * 4 : 0;
  return {
    ...none,
    mirrorRows,
    expandWork: acc ? align4(e) + acc : e,
    depthwiseWork: R * cols * G * eb,
    accOffset: acc ? align4(e) : -1,
  };
}

/** Work of a stage over the whole stream, in the counts of block_cost.ts (its path's constants weigh it). */
export interface StageWork {
  gemmMultiplyAdds: number;
  /** Multiply-adds of the stem's 3x3/2 conv (a block 0 expansion). */
  convMultiplyAdds: number;
  depthwiseMultiplyAdds: number;
  calls: number;
  accumulatedBytes: number;
  /** Values requantized to 8 bits (integer path): every expanded value computed, depthwise value and output. */
  requantizedValues: number;
}

/** Counts the work of a stage's calls as the kernels do it (windows clipped at the image borders). */
export function stageWork(s: StageRows, c: StageConfig, path: StreamPath): StageWork {
  const st = s.stage;
  const w: StageWork = {
    gemmMultiplyAdds: 0,
    convMultiplyAdds: 0,
    depthwiseMultiplyAdds: 0,
    calls: 0,
    accumulatedBytes: 0,
    requantizedValues: 0,
  };
  const integer = path === 'integer';
  if (st.kind === 'row_head') return headWork(st, integer);
  if (st.kind !== 'block') {
    const pixels = st.inH * st.inW;
    // A QUANTIZE is one operation per value: count it as one multiply-add.
    w.gemmMultiplyAdds = st.elementwise ? pixels * st.outC : pixels * st.inC * round(st.outC, 8);
    w.calls = st.inH * Math.ceil(st.inW / Math.max(1, c.tileCols)) * 2;
    if (integer) w.requantizedValues = pixels * st.outC;
    return w;
  }
  const br = s.rows!;
  const Cexp = br.Cexp;
  const Cout = st.outC;
  const Wd = st.outW;
  const cols = path === 'float' ? Wd : c.tileCols;
  const tiles = Math.ceil(Wd / cols);
  const G = c.expanded === 'ring' ? Cexp : c.groupChannels;
  const groups = Math.ceil(Cexp / G);
  const padded = round(G, 8) * (groups - 1) + round(Cexp - G * (groups - 1), 8);
  const stem = br.ekh > 1;
  let expandMacs = 0;
  for (let r0 = 0; r0 < st.outH; r0 += c.bandRows) {
    const r1 = Math.min(st.outH, r0 + c.bandRows);
    const R = r1 - r0;
    const e = expandedRowsComputed(br, r0, r1, c.expanded === 'ring');
    const eRows = Math.max(0, e.hi - e.lo + 1);
    if (c.expanded === 'ring' || path === 'float') {
      expandMacs += eRows * br.We * padded * br.expandK;
      if (integer) w.requantizedValues += eRows * br.We * Cexp;
      w.calls += groups * (eRows + 1);
    } else {
      for (let q0 = 0; q0 < Wd; q0 += cols) {
        const q1 = Math.min(Wd, q0 + cols);
        const a = Math.max(0, q0 * br.sw - br.pl);
        const b = Math.min(br.We, (q1 - 1) * br.sw - br.pl + 2 * br.dw + 1);
        expandMacs += eRows * (b - a) * padded * br.expandK;
        if (integer) w.requantizedValues += eRows * (b - a) * Cexp;
      }
      w.calls += tiles * groups * (cols === Wd ? 1 : eRows);
    }
    // Depthwise channels in SIMD groups: 4 floats, 16 bytes.
    w.depthwiseMultiplyAdds += R * Wd * 9 * round(Cexp, integer ? 16 : 4);
    w.gemmMultiplyAdds += R * Wd * Cexp * round(Cout, 8);
    if (integer) w.requantizedValues += R * Wd * (Cexp + Cout);
    w.calls += tiles * groups * 2;
    // Partial sums: float y rewritten by every group after the first; integer int32 sums
    // written by the first group, re-read and re-written by the others, read to requantize.
    if (groups > 1) w.accumulatedBytes += (integer ? groups : groups - 1) * 2 * R * Wd * Cout * 4;
  }
  if (stem) w.convMultiplyAdds += expandMacs;
  else w.gemmMultiplyAdds += expandMacs;
  return w;
}

export function stageNs(
  s: StageRows,
  c: StageConfig,
  path: StreamPath,
  model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL,
) {
  return workNsOf(stageWork(s, c, path), model[path]);
}

function workNsOf(w: StageWork, k: KernelCostModel): number {
  return (
    w.gemmMultiplyAdds * k.nsPerMultiplyAdd +
    w.convMultiplyAdds * k.nsPerConvMultiplyAdd +
    w.depthwiseMultiplyAdds * k.nsPerDepthwiseMultiplyAdd +
    w.calls * k.nsPerCall +
    w.accumulatedBytes * k.nsPerAccumulatedByte +
    w.requantizedValues * k.nsPerRequantizedValue
  );
}

/** Distinct values of ceil(n / k) for k = 1..n, descending (every split of n into k near-equal parts). */
function splits(n: number): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= n; k++) out.add(Math.ceil(n / k));
  return [...out].sort((a, b) => b - a);
}

/** Group sizes for C_exp channels: C_exp, then multiples of 8 (the GEMM panel width) down to 8. */
function groupSizes(Cexp: number): number[] {
  const out = new Set<number>([Cexp]);
  for (const g of splits(Cexp)) {
    if (g >= 8) out.add(round(g, 8) >= Cexp ? Cexp : round(g, 8));
  }
  if (Cexp < 8) for (let g = 1; g <= Cexp; g++) out.add(g);
  return [...out].sort((a, b) => b - a);
}

/** Band heights tried for recomputing blocks (more rows: fewer halo rows recomputed, a taller input ring). */
export const RECOMPUTE_BANDS = [1, 2, 4] as const;

/** Every configuration worth considering for a stage. */
export function stageOptions(s: StageRows, path: StreamPath): StageConfig[] {
  const st = s.stage;
  if (st.kind === 'pointwise' || st.kind === 'row_head')
    return [{ bandRows: 1, expanded: 'recompute', groupChannels: st.outC, tileCols: st.outW }];
  if (st.kind === 'conv_pool')
    return splits(st.inW).map((q) => ({ bandRows: 1, expanded: 'recompute', groupChannels: st.outC, tileCols: q }));
  const br = s.rows!;
  const cols = path === 'float' ? [st.outW] : splits(st.outW);
  const out: StageConfig[] = [];
  for (const q of cols) out.push({ bandRows: 1, expanded: 'ring', groupChannels: br.Cexp, tileCols: q });
  for (const R of RECOMPUTE_BANDS) {
    if (R > st.outH) continue;
    for (const G of groupSizes(br.Cexp))
      for (const q of cols) out.push({ bandRows: R, expanded: 'recompute', groupChannels: G, tileCols: q });
  }
  return out;
}

/** A stage option with its costs (input ring estimated for a producer making one row per call). */
export interface PricedOption {
  config: StageConfig;
  /** Bytes that live for the whole stream: input ring (+ mirror rows), expanded ring, pool sums. */
  persistent: number;
  /** Bytes of the shared working area while this stage runs. */
  work: number;
  ns: number;
}

/** Input rows a stage's ring holds when its producer makes one row per call. */
function ringRowsAlone(s: StageRows, c: StageConfig): number {
  const st = s.stage;
  let span = 0;
  for (let r0 = 0; r0 < st.outH; r0 += c.bandRows) {
    const r1 = Math.min(st.outH, r0 + c.bandRows);
    if (st.kind !== 'block') {
      span = Math.max(span, r1 - r0);
      continue;
    }
    const br = s.rows!;
    const e = expandedRowsComputed(br, r0, r1, c.expanded === 'ring');
    const lo = Math.max(0, e.lo * br.esh - br.ept);
    const hi = Math.min(st.inH - 1, e.hi * br.esh - br.ept + (br.ekh - 1) * br.edh);
    const a = br.residual ? Math.min(lo, r0) : lo;
    const b = br.residual ? Math.max(hi, r1 - 1) : hi;
    if (e.hi >= e.lo || br.residual) span = Math.max(span, b - a + 1);
  }
  return span;
}

export const rowBytesOf = (s: StageRows) => s.stage.inW * s.stage.inC * s.stage.elementBytes;

/** Options of a stage with their memory and time, dominated ones dropped. */
export function pricedOptions(
  s: StageRows,
  path: StreamPath,
  model: BlockCostModel,
  wholeInput: boolean,
): PricedOption[] {
  const all = stageOptions(s, path).map((config) => {
    const b = stageBytes(s, config, path);
    const ring = wholeInput ? 0 : (ringRowsAlone(s, config) + b.mirrorRows) * rowBytesOf(s);
    return {
      config,
      persistent: ring + b.expandRing + b.poolSums + b.headState,
      work: b.expandWork + b.depthwiseWork,
      ns: stageNs(s, config, path, model),
    };
  });
  // Pareto front over (persistent, work, ns).
  all.sort((a, b) => a.ns - b.ns || a.persistent - b.persistent || a.work - b.work);
  const kept: PricedOption[] = [];
  for (const o of all) {
    if (kept.some((k) => k.persistent <= o.persistent && k.work <= o.work && k.ns <= o.ns)) continue;
    kept.push(o);
  }
  return kept;
}

/** Memory of a configured stream: rings and the shared working area, exactly (with the real schedule). */
export interface StreamFootprint {
  /** Rows of each stage's input ring (a whole source tensor: its height). */
  ringRows: number[];
  ringBytes: number[];
  stageBytes: StageBytes[];
  /** Bytes of the working area the stages share (their largest expanded + depthwise work). */
  workBytes: number;
  /** Everything the stream holds while it runs, except a whole input or output tensor. */
  totalBytes: number;
}

export function streamFootprint(
  stages: StageRows[],
  configs: StageConfig[],
  path: StreamPath,
  externalSource: boolean,
): StreamFootprint {
  const sched = pullSchedule({
    stages,
    bandRows: configs.map((c) => c.bandRows),
    ringExpanded: configs.map((c) => c.expanded === 'ring'),
    externalSource,
  });
  const sb = stages.map((s, i) => stageBytes(s, configs[i]!, path));
  const ringBytes = stages.map((s, i) =>
    i === 0 && !externalSource ? 0 : (sched.ringRows[i]! + sb[i]!.mirrorRows) * rowBytesOf(s),
  );
  const workBytes = Math.max(0, ...sb.map((b) => b.expandWork + b.depthwiseWork));
  const totalBytes =
    ringBytes.reduce((a, b) => a + b, 0) +
    sb.reduce((a, b) => a + b.expandRing + b.poolSums + b.headState, 0) +
    workBytes;
  return { ringRows: sched.ringRows, ringBytes, stageBytes: sb, workBytes, totalBytes };
}

/** Passes a stream makes over its stages: 2 when it ends with a row head that pools its input, else 1. */
export function streamPasses(stages: readonly { stage: StreamStage }[]): 1 | 2 {
  return stages[stages.length - 1]?.stage.head?.passes ?? 1;
}

/**
 * Estimated time of a configured stream: with two passes every stage before the head runs
 * twice (the head sums rows in the first pass and makes its rows in the second; its work
 * counts both).
 */
export function streamNs(stages: StageRows[], configs: StageConfig[], path: StreamPath, model: BlockCostModel) {
  const passes = streamPasses(stages);
  return stages.reduce(
    (s, st, i) => s + stageNs(st, configs[i]!, path, model) * (st.stage.kind === 'row_head' ? 1 : passes),
    0,
  );
}

/**
 * The configuration with the smallest estimated time whose footprint (streamFootprint
 * totalBytes) is at most `limit`; undefined when even the smallest does not fit.
 * For each cap on the shared working area, every stage starts at its option with the
 * fewest bytes that keeps within the cap, then the upgrades saving the most time per
 * byte are taken while they fit (a greedy multiple-choice knapsack). The estimate of an
 * input ring assumes its producer makes one row per call; the exact footprint is
 * checked, and the search repeats with the limit lowered by any excess.
 */
export function chooseStreamConfig(
  stages: StageRows[],
  path: StreamPath,
  limit: number,
  externalSource: boolean,
  model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL,
): StageConfig[] | undefined {
  const priced = stages.map((s, i) => cachedOptions(s, path, model, i === 0 && !externalSource));
  let target = limit;
  for (let attempt = 0; attempt < 6; attempt++) {
    const pick = greedy(priced, target);
    if (!pick) return undefined;
    const fp = streamFootprint(stages, pick, path, externalSource);
    if (fp.totalBytes <= limit) return pick;
    target -= fp.totalBytes - limit;
  }
  return undefined;
}

/** Priced options by stage (planning asks for the same stages under many limits). */
const optionCache = new WeakMap<object, Map<string, PricedOption[]>>();

function cachedOptions(s: StageRows, path: StreamPath, model: BlockCostModel, wholeInput: boolean) {
  let m = optionCache.get(s.stage);
  if (!m) optionCache.set(s.stage, (m = new Map()));
  const key = `${path} ${wholeInput} ${JSON.stringify(model[path])}`;
  let o = m.get(key);
  if (!o) m.set(key, (o = pricedOptions(s, path, model, wholeInput)));
  return o;
}

/**
 * The smallest-footprint configuration: the fewest bytes the stages can take, then the
 * fastest configuration within exactly that many bytes.
 */
export function smallestStreamConfig(
  stages: StageRows[],
  path: StreamPath,
  externalSource: boolean,
  model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL,
) {
  // A cost model that only counts bytes: every upgrade costs memory and saves nothing.
  const nothing: KernelCostModel = {
    nsPerMultiplyAdd: 0,
    nsPerConvMultiplyAdd: 0,
    nsPerDepthwiseMultiplyAdd: 0,
    nsPerCall: 0,
    nsPerAccumulatedByte: 0,
    nsPerRequantizedValue: 0,
  };
  const fewest = chooseStreamConfig(stages, path, Number.MAX_SAFE_INTEGER, externalSource, {
    float: nothing,
    integer: nothing,
  });
  if (!fewest) return undefined;
  const floor = streamFootprint(stages, fewest, path, externalSource).totalBytes;
  return chooseStreamConfig(stages, path, floor, externalSource, model) ?? fewest;
}

function greedy(priced: PricedOption[][], limit: number): StageConfig[] | undefined {
  // Caps on the shared working area: from the smallest every stage can meet to the limit.
  // First caps at least 5% apart, then every cap between the neighbours of the best one
  // (or every cap, when none of the coarse ones fits): fine steps only where they matter.
  const floor = Math.max(...priced.map((p) => Math.min(...p.map((o) => o.work))));
  const all = [...new Set(priced.flatMap((p) => p.map((o) => o.work)))].filter((w) => w >= floor && w <= limit);
  all.sort((a, b) => a - b);
  const coarse: number[] = [];
  for (const w of all) if (coarse.length === 0 || w >= coarse[coarse.length - 1]! * 1.05) coarse.push(w);
  if (all.length && coarse[coarse.length - 1] !== all[all.length - 1]) coarse.push(all[all.length - 1]!);
  let best = bestOver(priced, limit, coarse);
  let fine: number[];
  if (best) {
    const i = coarse.indexOf(best.cap);
    const lo = i > 0 ? coarse[i - 1]! : -Infinity;
    const hi = i + 1 < coarse.length ? coarse[i + 1]! : Infinity;
    fine = all.filter((w) => w > lo && w < hi && !coarse.includes(w));
  } else fine = all.filter((w) => !coarse.includes(w));
  const refined = bestOver(priced, limit, fine);
  if (refined && (!best || refined.ns < best.ns || (refined.ns === best.ns && refined.bytes < best.bytes)))
    best = refined;
  return best?.pick.map((o) => o.config);
}

/** For each cap: every stage at its fewest bytes within the cap, then upgrades by time saved per byte; the fastest. */
function bestOver(priced: PricedOption[][], limit: number, caps: number[]) {
  let best: { ns: number; bytes: number; cap: number; pick: PricedOption[] } | undefined;
  for (const cap of caps) {
    const allowed = priced.map((p) => p.filter((o) => o.work <= cap));
    if (allowed.some((p) => p.length === 0)) continue;
    const pick = allowed.map((p) =>
      p.reduce((a, b) => (b.persistent < a.persistent || (b.persistent === a.persistent && b.ns < a.ns) ? b : a)),
    );
    let bytes = cap + pick.reduce((s, o) => s + o.persistent, 0);
    if (bytes > limit) continue;
    for (;;) {
      let bestStage = -1;
      let bestOpt: PricedOption | undefined;
      let bestRatio = 0;
      allowed.forEach((p, i) => {
        const cur = pick[i]!;
        for (const o of p) {
          const dns = cur.ns - o.ns;
          const db = o.persistent - cur.persistent;
          if (dns <= 0 || bytes + db > limit) continue;
          const ratio = db <= 0 ? Infinity : dns / db;
          if (ratio > bestRatio || (ratio === bestRatio && bestOpt && o.ns < bestOpt.ns)) {
            bestRatio = ratio;
            bestStage = i;
            bestOpt = o;
          }
        }
      });
      if (!bestOpt) break;
      bytes += bestOpt.persistent - pick[bestStage]!.persistent;
      pick[bestStage] = bestOpt;
    }
    const ns = pick.reduce((s, o) => s + o.ns, 0);
    if (!best || ns < best.ns || (ns === best.ns && bytes < best.bytes)) best = { ns, bytes, cap, pick };
  }
  return best;
}

/** The expanded rows held by a 'ring' block (its window for one band). */
export function expandRingRows(br: BlockRows, bandRows: number): number {
  return windowOf(bandRows, br.sh, br.dh, br.He);
}

export { expandedRowsOf };

/** Where a row head's tensors live: the stream's state buffer or the shared work area. */
export interface HeadArea {
  /** Tensor id, or -1 for the pool's sums. */
  tensor: number;
  kind: HeadTensorKind | 'sums';
  offset: number;
  bytes: number;
}

export interface HeadLayout {
  /**
   * The head's state buffer (alive for the whole stream): the pool's 4-byte sums per
   * channel, the 'const' vectors and the one row of each 'bcast' tensor, each 16-byte
   * aligned.
   */
  state: HeadArea[];
  stateBytes: number;
  /** The stage's work area (alive while it runs): one row of each 'row' tensor, 16-byte aligned. */
  work: HeadArea[];
  workBytes: number;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** The areas of a row head stage, in the order of its tensors. */
export function headLayout(st: StreamStage): HeadLayout {
  const head: RowHead = st.head!;
  const state: HeadArea[] = [];
  const work: HeadArea[] = [];
  let s = 0;
  let w = 0;
  if (head.pool >= 0) {
    state.push({ tensor: -1, kind: 'sums', offset: 0, bytes: st.inC * 4 });
    s = align16(st.inC * 4);
  }
  for (const t of head.tensors) {
    if (t.kind === 'row') {
      work.push({ tensor: t.id, kind: t.kind, offset: w, bytes: t.bytes });
      w = align16(w + t.bytes);
    } else {
      state.push({ tensor: t.id, kind: t.kind, offset: s, bytes: t.bytes });
      s = align16(s + t.bytes);
    }
  }
  const end = (a: HeadArea[]) => (a.length ? a[a.length - 1]!.offset + a[a.length - 1]!.bytes : 0);
  return { state, stateBytes: end(state), work, workBytes: end(work) };
}

/**
 * Work of a row head over the stream (both passes): its per-row ops on every row (the pool's
 * sums in the first pass, the rest in the second) and its ops on vectors and the broadcast
 * row once (rowHead's counts).
 */
function headWork(st: StreamStage, integer: boolean): StageWork {
  const { perRow, once } = st.head!.work;
  return {
    gemmMultiplyAdds: perRow.multiplyAdds * st.inH + once.multiplyAdds,
    convMultiplyAdds: 0,
    depthwiseMultiplyAdds: 0,
    calls: perRow.calls * st.inH + once.calls,
    accumulatedBytes: 0,
    requantizedValues: integer ? perRow.values * st.inH + once.values : 0,
  };
}
