/**
 * TFLite's own profile of a .tflite file, taken apart and matched to lowwater's rows.
 *
 * What TFLite-WASM (tfjs-tflite) reports: with `enableProfiling` its interpreter
 * records one event per node per run, and the XNNPACK delegate, which runs most
 * of the graph as a few "TfLiteXNNPackDelegate" nodes (one per partition of
 * operators it took), adds one event per XNNPACK operator inside them. Two ways
 * out: getProfilingResults(), the node events only, in whole milliseconds; and
 * getProfilingSummary(), TFLite's ProfileSummarizer text: per node ("[outputs]:node
 * index") and, under "Delegate internal", per XNNPACK operator ("Delegate/<XNNPACK
 * operator name>:<its index in the partition>"), first and mean time in
 * microsecond steps. The summary is what this module reads.
 *
 * Two quirks decide how:
 * - Each summary call adds every event still in the profiler's buffer to running
 *   statistics again. A call after W warm-up runs and one after W + R runs give the
 *   R runs' sums as S(second) − 2·S(first), where S = mean × updates; the printed
 *   "times called" (updates ÷ calls) checks that reading.
 * - XNNPACK operator indices restart at 0 in every partition, and rows of equal
 *   name and index from two partitions are merged into one. Partitions are found
 *   from the delegate nodes' output tensors (walking back through the operators
 *   TFLite did not run itself); an XNNPACK operator is then placed by its index
 *   in the partition and its kind (GEMM for 1x1 convolutions, IGEMM for others,
 *   DWConv for depthwise, ...). Where that is not unambiguous, the whole partition
 *   stays one entry, and the output says so.
 */
import type { Graph } from '../../planner/ir.js';
import type { ProfileRow, TfliteEntry, TfliteGroup, TfliteNode, TfliteProfile } from './types.js';

/** One row of a summary's "Run Order" table. */
export interface SummaryRow {
  type: string;
  firstMs: number;
  avgMs: number;
  /** Updates of this row ÷ summary calls so far, rounded down (TFLite's "times called"). */
  timesCalled: number;
  /** The name before the last ':' ("[out1, out2]" for nodes, "Delegate/Convolution (NHWC, QU8) GEMM" for XNNPACK operators). */
  name: string;
  /** After the last ':': node index, or XNNPACK operator index within its partition. */
  index: number;
}

export interface SummarySection {
  rows: SummaryRow[];
  /** Summary calls so far ("Timings (microseconds): count=N"). */
  count: number;
}

export interface ProfilingSummary {
  nodes: SummarySection;
  /** XNNPACK's operators ("Delegate internal"); empty when the delegate reported none. */
  delegateOps: SummarySection;
}

function parseSection(lines: string[], what: string): SummarySection {
  const start = lines.findIndex((l) => /=+ Run Order =+/.test(l));
  if (start < 0) throw new Error(`TFLite profile summary: no "Run Order" table in ${what}`);
  const rows: SummaryRow[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const f = lines[i]!.split('\t').map((x) => x.trim());
    // '', type, first, avg ms, %, cdf%, mem KB, times called, name
    if (f.length < 9) throw new Error(`TFLite profile summary: cannot read row '${lines[i]}' in ${what}`);
    const full = f.slice(8).join('\t');
    const colon = full.lastIndexOf(':');
    const index = Number(full.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(index))
      throw new Error(`TFLite profile summary: row name '${full}' has no ':index' in ${what}`);
    rows.push({
      type: f[1]!,
      firstMs: Number(f[2]),
      avgMs: Number(f[3]),
      timesCalled: Number(f[7]),
      name: full.slice(0, colon),
      index,
    });
  }
  const m = lines.map((l) => /Timings \(microseconds\): count=(\d+)/.exec(l)).find((x) => x);
  return { rows, count: m ? Number(m[1]) : 0 };
}

/** Reads the text of TFLiteWebModelRunner.getProfilingSummary(). */
export function parseProfilingSummary(text: string): ProfilingSummary {
  const lines = text.split('\n');
  const cut = lines.findIndex((l) => l.startsWith('Delegate internal'));
  const top = cut < 0 ? lines : lines.slice(0, cut);
  return {
    nodes: parseSection(top, 'the node part'),
    delegateOps: cut < 0 ? { rows: [], count: 0 } : parseSection(lines.slice(cut), 'the "Delegate internal" part'),
  };
}

/** A row's mean time over the R runs between two summary calls, and how often it runs per run. */
export interface WindowRow {
  /** As in the summary, without the "Delegate/" of XNNPACK operators. */
  name: string;
  type: string;
  index: number;
  /** Events per run (2 or more: XNNPACK operators of several partitions merged under one name). */
  perRun: number;
  /** Mean ms per run of all its events together. */
  ms: number;
}

function windowSection(a: SummarySection, b: SummarySection, warmup: number, runs: number, what: string): WindowRow[] {
  if (a.rows.length === 0 && b.rows.length === 0) return [];
  if (a.count !== 1 || b.count !== 2)
    throw new Error(
      `TFLite profile summary (${what}): expected the first and second summary of this interpreter, got counts ${a.count} and ${b.count}`,
    );
  const first = new Map(a.rows.map((r) => [`${r.name}:${r.index}`, r]));
  return b.rows.map((r) => {
    const key = `${r.name}:${r.index}`;
    const ra = first.get(key);
    if (!ra) throw new Error(`TFLite profile summary (${what}): '${key}' did not run in the warm-up runs`);
    const perRun = ra.timesCalled / warmup;
    // Updates: the first call added the warm-up runs' events, the second all W + R runs' again.
    const updatesB = perRun * (2 * warmup + runs);
    if (!Number.isInteger(perRun) || perRun < 1 || r.timesCalled !== Math.floor(updatesB / 2))
      throw new Error(
        `TFLite profile summary (${what}): '${key}' was called ${ra.timesCalled} then ${r.timesCalled} times, not a whole number per run over ${warmup} + ${runs} runs (was the profiler's buffer too small?)`,
      );
    const sum = r.avgMs * updatesB - 2 * ra.avgMs * perRun * warmup;
    const name = r.name.replace(/^Delegate\//, '');
    return { name, type: r.type, index: r.index, perRun, ms: Math.max(0, sum / runs) };
  });
}

/** Mean ms per run of every node and XNNPACK operator over the `runs` runs between summaries `a` (after `warmup` runs) and `b`. */
export function windowMeans(
  a: ProfilingSummary,
  b: ProfilingSummary,
  warmup: number,
  runs: number,
): { nodes: WindowRow[]; delegateOps: WindowRow[] } {
  if (!(warmup >= 1 && runs >= 1)) throw new Error('windowMeans: needs at least one warm-up run and one run');
  return {
    nodes: windowSection(a.nodes, b.nodes, warmup, runs, 'nodes'),
    delegateOps: windowSection(a.delegateOps, b.delegateOps, warmup, runs, 'XNNPACK operators'),
  };
}

/** A TFLite operator of the file, as matching needs it. */
export interface FileOperator {
  index: number;
  type: string;
  /** Activation tensor names it reads and writes. */
  inputs: string[];
  outputs: string[];
  /** Convolutions: 1x1 kernel, stride 1, no padding (XNNPACK runs these as a GEMM, others as an IGEMM). */
  pointwise?: boolean;
}

/** The file's operators from its imported graph (IR ops carry their operator index and type as `origin`). */
export function fileOperators(graph: Graph): FileOperator[] {
  const byIndex = new Map<number, { type: string; ops: number[] }>();
  for (const op of graph.ops) {
    if (!op.origin) continue;
    const e = byIndex.get(op.origin.index) ?? { type: op.origin.type, ops: [] };
    e.ops.push(op.id);
    byIndex.set(op.origin.index, e);
  }
  return [...byIndex.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([index, { type, ops }]) => {
      const mine = new Set(ops);
      const name = (t: number) => graph.tensors[t]!.name;
      const inputs = ops.flatMap((o) => graph.ops[o]!.inputs).filter((t) => !mine.has(graph.tensors[t]!.producer));
      const outputs = ops
        .flatMap((o) => graph.ops[o]!.outputs)
        .filter((t) => graph.outputs.includes(t) || graph.tensors[t]!.consumers.some((c) => !mine.has(c)));
      const first = graph.ops[ops[0]!]!;
      const pointwise =
        first.kind === 'conv2d'
          ? first.kernel[0] === 1 &&
            first.kernel[1] === 1 &&
            first.stride[0] === 1 &&
            first.stride[1] === 1 &&
            first.pad.top + first.pad.bottom + first.pad.left + first.pad.right === 0
          : undefined;
      return {
        index,
        type,
        inputs: [...new Set(inputs.map(name))],
        outputs: [...new Set(outputs.map(name))],
        ...(pointwise !== undefined ? { pointwise } : {}),
      };
    });
}

/** Whether XNNPACK operator `label` (its profiler name) can be the work of TFLite operator `op`. */
export function xnnpackRuns(op: FileOperator, label: string): boolean {
  const l = label.toLowerCase();
  const conv = l.startsWith('convolution');
  switch (op.type) {
    case 'CONV_2D':
      if (!conv || l.includes('dwconv')) return false;
      if (/\bigemm\b/.test(l)) return op.pointwise !== true;
      if (/\bgemm\b/.test(l)) return op.pointwise !== false;
      return true;
    case 'DEPTHWISE_CONV_2D':
      return conv && !/\b(i?gemm)\b/.test(l);
    case 'FULLY_CONNECTED':
      return l.startsWith('fully connected');
    case 'ADD':
      return l.startsWith('add');
    case 'SUB':
      return l.startsWith('subtract');
    case 'MUL':
      return l.startsWith('multiply');
    case 'AVERAGE_POOL_2D':
    case 'MEAN':
      return l.includes('average pooling') || l.startsWith('mean');
    case 'MAX_POOL_2D':
      return l.includes('max pooling');
    case 'RESHAPE':
    case 'SQUEEZE':
      return l.startsWith('copy') || l.includes('reshape');
    case 'CONCATENATION':
      return l.startsWith('copy') || l.startsWith('concatenat');
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      return l.startsWith('convert');
    case 'RESIZE_BILINEAR':
      return l.startsWith('resize bilinear');
    case 'SOFTMAX':
      return /^soft ?max/.test(l);
    case 'PAD':
      return l.startsWith('constant pad');
    case 'HARD_SWISH':
      return l.startsWith('hardswish');
    case 'LOGISTIC':
      return l.startsWith('sigmoid');
    default:
      return false;
  }
}

const isDelegate = (type: string) => /delegate/i.test(type);

/** "[a, b]" → ['a', 'b'] (TFLite joins a node's output tensor names with ', '). */
function outputNames(name: string, known: Set<string>): string[] {
  const inner = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (known.has(inner)) return [inner];
  return inner.split(', ');
}

interface Partition {
  node: number;
  /** Operators of the file in it, ascending: XNNPACK numbers its operators in this order. */
  ops: FileOperator[];
  /** Split into XNNPACK operators (false: the whole partition is one entry). */
  split: boolean;
}

/**
 * Operators of each delegate node: walking back from its output tensors through operators
 * TFLite did not run itself, stopping at another partition's outputs; operators no walk
 * reaches (results nobody reads) join the partition of an operator they read from or feed.
 */
function partitionsOf(ops: FileOperator[], nodes: TfliteNode[]): Map<number, number> {
  const own = new Set(nodes.filter((n) => !n.delegate).map((n) => n.index));
  const delegated = ops.filter((o) => !own.has(o.index));
  const producer = new Map<string, FileOperator>();
  for (const o of ops) for (const t of o.outputs) producer.set(t, o);
  const partitionOutputs = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (n.delegate) for (const t of n.outputs) partitionOutputs.set(t, i);
  });
  const owner = new Map<number, number>();
  nodes.forEach((n, i) => {
    if (!n.delegate) return;
    const stack = n.outputs.map((t) => producer.get(t)).filter((o): o is FileOperator => !!o);
    while (stack.length) {
      const o = stack.pop()!;
      if (own.has(o.index) || owner.has(o.index)) continue;
      owner.set(o.index, i);
      for (const t of o.inputs) {
        const p = producer.get(t);
        const other = partitionOutputs.get(t);
        if (p && (other === undefined || other === i)) stack.push(p);
      }
    }
  });
  const consumers = new Map<string, FileOperator[]>();
  for (const o of ops) for (const t of o.inputs) consumers.set(t, [...(consumers.get(t) ?? []), o]);
  for (let changed = true; changed;) {
    changed = false;
    for (const o of delegated) {
      if (owner.has(o.index)) continue;
      const near = [...o.inputs.map((t) => producer.get(t)), ...o.outputs.flatMap((t) => consumers.get(t) ?? [])].find(
        (x) => x && owner.has(x.index),
      );
      if (near) {
        owner.set(o.index, owner.get(near.index)!);
        changed = true;
      }
    }
  }
  return owner;
}

/** Exact cover of `slots` by the rows (row r takes rows[r].perRun compatible slots); up to two solutions. */
function covers(rows: { perRun: number; fits: (slot: number) => boolean }[], slots: number[]): number[][][] {
  const out: number[][][] = [];
  const pick: number[][] = [];
  const free = new Set(slots);
  const go = (r: number) => {
    if (out.length >= 2) return;
    if (r === rows.length) {
      if (free.size === 0) out.push(pick.map((p) => p.slice()));
      return;
    }
    const cand = [...free].filter((s) => rows[r]!.fits(s));
    const k = rows[r]!.perRun;
    const choose = (from: number, chosen: number[]) => {
      if (chosen.length === k) {
        chosen.forEach((s) => free.delete(s));
        pick.push(chosen.slice());
        go(r + 1);
        pick.pop();
        chosen.forEach((s) => free.add(s));
        return;
      }
      for (let i = from; i < cand.length; i++) choose(i + 1, [...chosen, cand[i]!]);
    };
    choose(0, []);
  };
  go(0);
  return out;
}

export interface TfliteRun {
  runtime: string;
  runs: number;
  warmup: number;
  /** Wall time of each profiled run. */
  runMs: number[];
  /** Wall time of each run of an interpreter without the profiler. */
  plainMs: number[];
  /** Summaries after the warm-up runs and after all runs. */
  summaryAfterWarmup: string;
  summaryAfterRuns: string;
}

const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

/**
 * TFLite's profile of the runs in `run`, its entries matched to `ops` (the file's operators)
 * and through them to lowwater's `rows`.
 */
export function matchTfliteProfile(run: TfliteRun, ops: FileOperator[], rows: ProfileRow[]): TfliteProfile {
  const notes: string[] = [];
  const win = windowMeans(
    parseProfilingSummary(run.summaryAfterWarmup),
    parseProfilingSummary(run.summaryAfterRuns),
    run.warmup,
    run.runs,
  );
  const byIndex = new Map(ops.map((o) => [o.index, o]));
  const tensorNames = new Set(ops.flatMap((o) => [...o.inputs, ...o.outputs]));
  const nodes: TfliteNode[] = win.nodes
    .map((r) => ({
      index: r.index,
      type: r.type,
      outputs: outputNames(r.name, tensorNames),
      ms: r.ms,
      delegate: isDelegate(r.type),
      operators: [] as number[],
    }))
    .sort((a, b) => a.index - b.index);
  for (const n of nodes) {
    if (n.delegate) continue;
    const op = byIndex.get(n.index);
    if (!op || op.type !== n.type.split('/')[0])
      throw new Error(
        `TFLite node ${n.index} is a ${n.type}; the file's operator ${n.index} is ${op ? op.type : 'missing'}`,
      );
    n.operators = [n.index];
  }
  const owner = partitionsOf(ops, nodes);
  const partitions = new Map<number, Partition>();
  for (const o of ops) {
    const p = owner.get(o.index);
    if (p === undefined) continue;
    const part = partitions.get(p) ?? { node: p, ops: [], split: true };
    part.ops.push(o);
    partitions.set(p, part);
  }
  for (const [i, p] of partitions) nodes[i]!.operators = p.ops.map((o) => o.index);

  // XNNPACK operators → (partition, position) → file operator.
  const xops = win.delegateOps;
  const placed = new Map<number, number[]>(); // row of xops → operator indices
  const parts = [...partitions.values()];
  const expected = parts.reduce((s, p) => s + p.ops.length, 0);
  const reported = xops.reduce((s, r) => s + r.perRun, 0);
  if (xops.length === 0) {
    for (const p of parts) p.split = false;
    if (parts.length) notes.push('XNNPACK reported no operators of its own: each partition is one entry');
  } else if (reported === expected) {
    // One XNNPACK operator per TFLite operator: place each by its index and kind.
    const positions = [...new Set(xops.map((r) => r.index))].sort((a, b) => a - b);
    const unplaced: number[] = [];
    for (const i of positions) {
      const slotParts = parts.filter((p) => p.ops.length > i);
      const here = xops.map((r, k) => ({ r, k })).filter((x) => x.r.index === i);
      const found = covers(
        here.map(({ r }) => ({ perRun: r.perRun, fits: (s: number) => xnnpackRuns(slotParts[s]!.ops[i]!, r.name) })),
        slotParts.map((_, s) => s),
      );
      if (found.length !== 1) {
        for (const p of slotParts) p.split = false;
        unplaced.push(i);
        continue;
      }
      found[0]!.forEach((slots, j) =>
        placed.set(
          here[j]!.k,
          slots.map((s) => slotParts[s]!.ops[i]!.index),
        ),
      );
    }
    if (unplaced.length)
      notes.push(
        `XNNPACK operators #${unplaced.join(', #')} could not be told apart or fit no operator of their partitions: those partitions are one entry each`,
      );
  } else if (parts.length === 1) {
    // Some TFLite operators have no XNNPACK operator of their own (fused into a neighbour) or
    // several: align in order; an operator without one joins the next entry.
    const p = parts[0]!;
    const seq = [...xops.keys()].sort((a, b) => xops[a]!.index - xops[b]!.index);
    let at = 0;
    let pending: number[] = [];
    let last: number | undefined;
    for (const k of seq) {
      const label = xops[k]!.name;
      let j = at;
      while (j < p.ops.length && !xnnpackRuns(p.ops[j]!, label)) j++;
      if (j < p.ops.length) {
        pending.push(...p.ops.slice(at, j + 1).map((o) => o.index));
        placed.set(k, pending);
        pending = [];
        at = j + 1;
        last = k;
      } else if (last !== undefined && xnnpackRuns(byIndex.get(placed.get(last)!.at(-1)!)!, label)) {
        // A second XNNPACK operator of the same TFLite operator: both go to it.
        placed.set(k, [placed.get(last)!.at(-1)!]);
      } else {
        p.split = false;
        notes.push(
          `XNNPACK's operator '${label}' #${xops[k]!.index} fits no remaining operator: the partition is one entry`,
        );
        break;
      }
    }
    if (p.split && at < p.ops.length) {
      if (last === undefined) p.split = false;
      else placed.get(last)!.push(...p.ops.slice(at).map((o) => o.index));
    }
  } else {
    for (const p of parts) p.split = false;
    notes.push(
      `XNNPACK reported ${reported} operators for the ${expected} TFLite operators of ${parts.length} partitions: each partition is one entry`,
    );
  }
  // An XNNPACK row merged across partitions can only be split if all of them are.
  for (let changed = true; changed;) {
    changed = false;
    for (const [k, opsOf] of placed) {
      const mine = [...new Set(opsOf.map((o) => owner.get(o)!))].map((n) => partitions.get(n)!);
      if (mine.some((p) => !p.split)) {
        for (const p of mine) if (p.split) ((p.split = false), (changed = true));
        placed.delete(k);
      }
    }
  }

  const entries: TfliteEntry[] = [];
  for (const [i, n] of nodes.entries()) {
    if (!n.delegate)
      entries.push({ kind: 'node', label: n.type, ms: n.ms, operators: n.operators, node: i, steps: [] });
  }
  let overheadMs = 0;
  let splitParts = 0;
  for (const p of parts) {
    const n = nodes[p.node]!;
    if (!p.split) {
      entries.push({
        kind: 'partition',
        label: `${n.type} (${p.ops.length} operators)`,
        ms: n.ms,
        operators: n.operators,
        node: p.node,
        steps: [],
      });
      continue;
    }
    splitParts++;
    overheadMs += n.ms;
  }
  for (const [k, opsOf] of [...placed.entries()].sort((a, b) => a[1][0]! - b[1][0]!)) {
    const r = xops[k]!;
    entries.push({
      kind: 'xnnpack',
      label: `${r.name} #${r.index}${r.perRun > 1 ? ` (${r.perRun} operators of that name and number, reported together)` : ''}`,
      ms: r.ms,
      operators: [...opsOf].sort((a, b) => a - b),
      node: owner.get(opsOf[0]!)!,
      steps: [],
    });
    overheadMs -= r.ms;
  }
  if (splitParts > 0)
    entries.push({
      kind: 'overhead',
      label: 'XNNPACK partitions outside their operators',
      ms: overheadMs,
      operators: [],
      node: -1,
      steps: [],
    });
  entries.sort((a, b) => (a.operators[0] ?? Infinity) - (b.operators[0] ?? Infinity));

  // Operators → entries and rows; groups of rows and entries sharing operators.
  const stepOf = new Map<number, number>();
  for (const r of rows) for (const o of r.operators) stepOf.set(o, r.step);
  const entryOf = new Map<number, number>();
  entries.forEach((e, i) => {
    for (const o of e.operators) entryOf.set(o, i);
    e.steps = [...new Set(e.operators.map((o) => stepOf.get(o)).filter((s): s is number => s !== undefined))].sort(
      (a, b) => a - b,
    );
  });
  const operators = ops.map((o) => ({
    index: o.index,
    type: o.type,
    entry: entryOf.get(o.index) ?? -1,
    step: stepOf.get(o.index) ?? null,
  }));
  const unmatched = operators.filter((o) => o.entry < 0);
  if (unmatched.length) notes.push(`TFLite reported no time for operators ${unmatched.map((o) => o.index).join(', ')}`);
  const noRow = operators.filter((o) => o.step === null);
  if (noRow.length) notes.push(`lowwater has no row for operators ${noRow.map((o) => o.index).join(', ')}`);

  const parent = new Map<string, string>();
  const find = (x: string): string => {
    const p = parent.get(x) ?? x;
    if (p === x) return x;
    const root = find(p);
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  entries.forEach((e, i) => {
    if (e.kind === 'overhead') return;
    for (const s of e.steps) union(`e${i}`, `s${s}`);
  });
  const groupsByRoot = new Map<string, TfliteGroup>();
  const groupOf = (key: string) => {
    const root = find(key);
    let g = groupsByRoot.get(root);
    if (!g) groupsByRoot.set(root, (g = { steps: [], entries: [], operators: [], lowwaterMs: 0, tfliteMs: 0 }));
    return g;
  };
  entries.forEach((e, i) => {
    if (e.kind === 'overhead') return;
    const g = groupOf(`e${i}`);
    g.entries.push(i);
    g.operators.push(...e.operators);
    g.tfliteMs += e.ms;
  });
  for (const r of rows) {
    if (!r.operators.some((o) => entryOf.has(o))) continue;
    const g = groupOf(`s${r.step}`);
    g.steps.push(r.step);
    g.lowwaterMs += r.meanMs;
  }
  const groups = [...groupsByRoot.values()]
    .map((g) => ({ ...g, operators: g.operators.sort((a, b) => a - b) }))
    .sort(
      (a, b) => (a.steps[0] ?? Infinity) - (b.steps[0] ?? Infinity) || (a.operators[0] ?? 0) - (b.operators[0] ?? 0),
    );

  const split = parts.filter((p) => p.split).length;
  const granularity = parts.length === 0 || split === parts.length ? 'operator' : split === 0 ? 'partition' : 'mixed';
  const meanMs = run.runMs.reduce((s, x) => s + x, 0) / run.runMs.length;
  if (parts.length)
    notes.unshift(
      `TFLite ran ${expected} of the file's ${ops.length} operators in ${parts.length} XNNPACK partition${parts.length > 1 ? 's' : ''}` +
        (split
          ? `; XNNPACK's own profile splits ${split === parts.length ? 'them' : `${split} of them`} into operators`
          : ''),
    );
  return {
    runtime: run.runtime,
    runs: run.runs,
    warmup: run.warmup,
    granularity,
    totalMs: medianOf(run.runMs),
    meanMs,
    entriesMs: entries.reduce((s, e) => s + e.ms, 0),
    unprofiledMs: medianOf(run.plainMs),
    nodes,
    entries,
    operators,
    groups,
    notes,
  };
}

/** Rows with TFLite's time where a match covers that row alone, and the group index of each row. */
export function attachTflite(rows: ProfileRow[], t: TfliteProfile): void {
  t.groups.forEach((g, i) => {
    for (const s of g.steps) {
      const alone = g.steps.length === 1;
      rows[s]!.tflite = {
        ms: alone ? g.tfliteMs : null,
        share: alone ? g.tfliteMs / t.entriesMs : null,
        group: i,
      };
    }
  });
}
