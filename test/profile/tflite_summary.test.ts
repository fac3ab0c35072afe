// Reading TFLite's profile summary without TFLite: summaries written here the way TFLite's
// ProfileSummarizer writes them (each call adds every buffered event to running statistics
// again, means printed in microsecond steps), from per-run times chosen here, so the means
// recovered for the runs between two calls can be checked exactly; then the placement of
// XNNPACK's operators in their partitions and the match to lowwater's rows.
import t from 'tap';
import {
  matchTfliteProfile,
  parseProfilingSummary,
  windowMeans,
  type FileOperator,
  type TfliteRun,
} from '../../src/profile/tflite.js';
import type { ProfileRow } from '../../src/profile/types.js';

/** A summary row's events: one list of per-run times (ms) per event in a run. */
interface FakeRow {
  type: string;
  name: string;
  index: number;
  perRun: number[][];
}

/**
 * One "Run Order" table as TFLite prints it after `buffered.length` summary calls, call j
 * seeing the first buffered[j] runs' events in the buffer (each call adds them all again).
 */
function table(rows: FakeRow[], buffered: number[]): string {
  const calls = buffered.length;
  const lines = [
    '============================== Run Order ==============================',
    '\t             [node type]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]',
  ];
  for (const r of rows) {
    const updates: number[] = [];
    for (const n of buffered) for (const ev of r.perRun) updates.push(...ev.slice(0, n));
    const avg = updates.reduce((s, x) => s + x, 0) / updates.length;
    lines.push(
      `\t${r.type.padStart(24)}\t${r.perRun[0]![0]!.toFixed(3).padStart(9)}\t${avg.toFixed(3).padStart(9)}\t  1.000%\t  1.000%\t     0.000\t${String(Math.floor(updates.length / calls)).padStart(9)}\t${r.name}:${r.index}`,
    );
  }
  lines.push('', `Timings (microseconds): count=${calls} curr=1000`, 'Memory (bytes): count=0', '');
  return lines.join('\n');
}

function summary(nodes: FakeRow[], ops: FakeRow[], buffered: number[]): string {
  const top = table(nodes, buffered);
  return ops.length ? `${top}\nDelegate internal: \n${table(ops, buffered)}` : top;
}

/** Per-run times: run r of event e of a row is base + r·step (e.g. 0.5, 0.6, ...), made distinct per row. */
const series = (base: number, runs: number, step = 0.013) => Array.from({ length: runs }, (_, r) => base + r * step);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

t.test('window means: the runs between two summaries, recovered from running statistics', async (t) => {
  const W = 3,
    R = 20;
  const conv = series(5.1, W + R);
  const add = series(0.021, W + R, 0.0007);
  const merged = [series(0.4, W + R), series(1.3, W + R, 0.002)];
  const nodes: FakeRow[] = [{ type: 'TfLiteXNNPackDelegate', name: '[out]', index: 7, perRun: [conv] }];
  const ops: FakeRow[] = [
    { type: 'DelegateOpInvoke', name: 'Delegate/Add (ND, QU8)', index: 2, perRun: [add] },
    { type: 'DelegateOpInvoke', name: 'Delegate/Convolution (NHWC, QU8) GEMM', index: 0, perRun: merged },
  ];
  const a = parseProfilingSummary(summary(nodes, ops, [W]));
  const b = parseProfilingSummary(summary(nodes, ops, [W, W + R]));
  t.equal(a.nodes.count, 1);
  t.equal(b.delegateOps.count, 2);
  t.same(
    b.nodes.rows.map((r) => [r.type, r.name, r.index]),
    [['TfLiteXNNPackDelegate', '[out]', 7]],
  );
  const w = windowMeans(a, b, W, R);
  // Means are printed to 0.001 ms; the recovered mean is off by at most 0.0005·(4W + R)/R per event.
  const tol = (0.0005 * (4 * W + R)) / R + 1e-9;
  t.ok(Math.abs(w.nodes[0]!.ms - mean(conv.slice(W))) <= tol, `node: ${w.nodes[0]!.ms} ≈ ${mean(conv.slice(W))}`);
  const byName = new Map(w.delegateOps.map((r) => [r.name, r]));
  const addRow = byName.get('Add (ND, QU8)')!;
  t.equal(addRow.perRun, 1);
  t.ok(Math.abs(addRow.ms - mean(add.slice(W))) <= tol, `small operator: ${addRow.ms} ≈ ${mean(add.slice(W))}`);
  const m = byName.get('Convolution (NHWC, QU8) GEMM')!;
  t.equal(m.perRun, 2, 'two operators under one name and number');
  const both = mean(merged[0]!.slice(W)) + mean(merged[1]!.slice(W));
  t.ok(Math.abs(m.ms - both) <= 2 * tol, `merged: ${m.ms} ≈ ${both} (both together)`);
  // Reading the means as printed (the mean of every update, warm-up runs counted three times) is not it.
  t.ok(Math.abs(b.nodes.rows[0]!.avgMs - mean(conv.slice(W))) > 10 * tol, 'the printed mean is not the runs’ mean');
});

t.test(
  'window means refuse counts that do not fit the runs (an overwritten buffer, a reused interpreter)',
  async (t) => {
    const rows: FakeRow[] = [{ type: 'SOFTMAX', name: '[p]', index: 3, perRun: [series(0.1, 30)] }];
    const a = parseProfilingSummary(summary(rows, [], [5]));
    // The buffer held only the last 12 of 25 runs at the second call.
    const b = parseProfilingSummary(summary(rows, [], [5, 12]));
    t.throws(() => windowMeans(a, b, 5, 20), /not a whole number per run|buffer/);
    const third = parseProfilingSummary(summary(rows, [], [5, 15, 25]));
    t.throws(() => windowMeans(a, third, 5, 20), /counts 1 and 3/);
  },
);

// A two-partition graph like uint8 MobileNetV2's tail: operators 0-2 (stem conv 3x3, depthwise,
// 1x1 projection) in XNNPACK, 3 an average pool TFLite runs itself, 4 a 1x1 conv in a second
// partition, 5 a softmax.
const OPS: FileOperator[] = [
  { index: 0, type: 'CONV_2D', inputs: ['in'], outputs: ['a'], pointwise: false },
  { index: 1, type: 'DEPTHWISE_CONV_2D', inputs: ['a'], outputs: ['b'] },
  { index: 2, type: 'CONV_2D', inputs: ['b'], outputs: ['c'], pointwise: true },
  { index: 3, type: 'AVERAGE_POOL_2D', inputs: ['c'], outputs: ['d'] },
  { index: 4, type: 'CONV_2D', inputs: ['d'], outputs: ['e'], pointwise: true },
  { index: 5, type: 'SOFTMAX', inputs: ['e'], outputs: ['f'] },
];

function row(step: number, operators: number[], ms: number): ProfileRow {
  return {
    step,
    kind: operators.length > 1 ? 'block' : 'op',
    what: `step ${step}`,
    name: `s${step}`,
    out: '1',
    operators,
    operatorTypes: operators.map((o) => OPS[o]!.type),
    folded: [],
    ms,
    meanMs: ms,
    minMs: ms,
    share: 0,
    macs: 0,
    executedMacs: 0,
    gmacPerS: null,
    bytesRead: 0,
    activationBytesRead: 0,
    weightBytes: 0,
    bytesWritten: 0,
    chunks: operators.length > 1 ? 1 : null,
  };
}
const ROWS = [row(0, [0, 1, 2], 3), row(1, [3], 0.1), row(2, [4], 0.2), row(3, [5], 0.01)];

function run(nodes: FakeRow[], ops: FakeRow[], W = 2, R = 4): TfliteRun {
  return {
    runtime: 'fake',
    runs: R,
    warmup: W,
    runMs: Array.from({ length: R }, () => 4),
    plainMs: Array.from({ length: R }, () => 3.9),
    summaryAfterWarmup: summary(nodes, ops, [W]),
    summaryAfterRuns: summary(nodes, ops, [W, W + R]),
  };
}
const flat = (ms: number) => [Array.from({ length: 6 }, () => ms)];
const NODES: FakeRow[] = [
  { type: 'TfLiteXNNPackDelegate', name: '[c]', index: 6, perRun: flat(3.5) },
  { type: 'AVERAGE_POOL_2D', name: '[d]', index: 3, perRun: flat(0.05) },
  { type: 'TfLiteXNNPackDelegate', name: '[e]', index: 7, perRun: flat(0.3) },
  { type: 'SOFTMAX', name: '[f]', index: 5, perRun: flat(0.02) },
];
const xop = (name: string, index: number, ms: number, perRun = 1): FakeRow => ({
  type: 'DelegateOpInvoke',
  name: `Delegate/${name}`,
  index,
  perRun: Array.from({ length: perRun }, () => flat(ms)[0]!),
});

t.test('XNNPACK operators placed in their partitions by index and kind; rows matched by operator', async (t) => {
  const p = matchTfliteProfile(
    run(NODES, [
      xop('Convolution (NHWC, QU8) IGEMM', 0, 1.5),
      xop('Convolution (NHWC, QU8) DWConv', 1, 0.9),
      xop('Convolution (NHWC, QU8) GEMM', 2, 1.0),
      // The second partition's operator 0: a GEMM, told from the first partition's IGEMM #0 by its kind.
      xop('Convolution (NHWC, QU8) GEMM', 0, 0.25),
    ]),
    OPS,
    ROWS,
  );
  t.equal(p.granularity, 'operator');
  t.same(
    p.operators.map((o) => [o.index, o.step]),
    [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 2],
      [5, 3],
    ],
  );
  t.ok(
    p.operators.every((o) => o.entry >= 0),
    'every operator has a TFLite entry',
  );
  const entryOf = (op: number) => p.entries[p.operators[op]!.entry]!;
  t.equal(entryOf(0).label, 'Convolution (NHWC, QU8) IGEMM #0');
  t.equal(entryOf(4).label, 'Convolution (NHWC, QU8) GEMM #0');
  t.equal(entryOf(3).kind, 'node');
  t.same(
    p.groups.map((g) => g.steps),
    [[0], [1], [2], [3]],
    'one group per row',
  );
  t.ok(Math.abs(p.groups[0]!.tfliteMs - 3.4) < 0.002, 'the block: IGEMM + DWConv + GEMM');
  const overhead = p.entries.find((e) => e.kind === 'overhead')!;
  t.ok(Math.abs(overhead.ms - (3.5 + 0.3 - 3.4 - 0.25)) < 0.003, 'partitions minus their operators');
  t.same(overhead.steps, [], 'overhead belongs to no row');
});

t.test('operators of two partitions under one name and number: their rows become one group', async (t) => {
  // Operator 0 as a 1x1 conv: both partitions' operator 0 are 'GEMM #0', reported together.
  const ops = OPS.map((o) => (o.index === 0 ? { ...o, pointwise: true } : o));
  const p = matchTfliteProfile(
    run(NODES, [
      xop('Convolution (NHWC, QU8) GEMM', 0, 0.9, 2),
      xop('Convolution (NHWC, QU8) DWConv', 1, 0.9),
      xop('Convolution (NHWC, QU8) GEMM', 2, 1.0),
    ]),
    ops,
    ROWS,
  );
  t.equal(p.granularity, 'operator');
  const g = p.groups.find((x) => x.steps.includes(0))!;
  t.same(g.steps, [0, 2], 'the block and the second conv share the merged entry');
  t.same(g.operators, [0, 1, 2, 4]);
  t.ok(
    p.operators.every((o) => o.entry >= 0 && o.step !== null),
    'still every operator matched',
  );
});

t.test('operators that fit nowhere: the partition stays one entry, and a note says so', async (t) => {
  const p = matchTfliteProfile(
    run(NODES, [
      xop('Convolution (NHWC, QU8) IGEMM', 0, 1.5),
      xop('Max Pooling (NHWC, QU8)', 1, 0.9),
      xop('Convolution (NHWC, QU8) GEMM', 2, 1.0),
      xop('Convolution (NHWC, QU8) GEMM', 0, 0.25),
    ]),
    OPS,
    ROWS,
  );
  t.equal(p.granularity, 'mixed');
  const whole = p.entries.find((e) => e.kind === 'partition')!;
  t.same(whole.operators, [0, 1, 2]);
  t.equal(whole.ms, 3.5);
  t.ok(
    p.notes.some((n) => /one entry/.test(n)),
    p.notes.join(' | '),
  );
  t.ok(
    p.operators.every((o) => o.entry >= 0),
    'every operator still has an entry',
  );
});

t.test('a node TFLite says is another operator than the file has is refused', async (t) => {
  const nodes = NODES.map((n) => (n.index === 3 ? { ...n, type: 'MAX_POOL_2D' } : n));
  t.throws(() => matchTfliteProfile(run(nodes, []), OPS, ROWS), /node 3 is a MAX_POOL_2D.*AVERAGE_POOL_2D/);
});
