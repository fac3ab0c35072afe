/**
 * Kernel benchmark: GFLOP/s of every distinct layer shape of MobileNetV2 (default 1.0/224,
 * from models/mobilenet_v2.ts), and a rough whole-network figure, single thread.
 *
 *   npx tsx bench/kernels.ts [--alpha 1.0] [--res 224] [--trials 15] [--json]
 *
 * Each shape runs in a plain timing loop of ≥ ~20 ms; trials are interleaved across shapes
 * and the best trial is kept (a loaded or frequency-scaled moment then hurts every shape
 * alike and the minimum filters it out). FLOPs count a multiply-add as 2.
 * The whole-network figure is given two ways: the sum over layers of their best per-shape
 * times, and the median of direct runs of the whole chained layer sequence (every tensor
 * in its own buffer, residual adds fused into the projection GEMM, as the executor does).
 */
import { buildMobileNetV2 } from '../models/mobilenet_v2.js';
import type { Graph, Op } from '../planner/ir.js';
import { instantiateKernels, type Kernels } from '../src/kernels/loader.js';
import { loadKernels } from '../src/kernels/node_loader.js';
import { Bump } from './bump.js';
import { packConv, packConv3x3, packDepthwise3x3, packFullyConnected, packGemm1x1 } from '../src/kernels/pack.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const alpha = Number(arg('alpha', '1.0'));
const res = Number(arg('res', '224'));
const trials = Number(arg('trials', '15'));
const asJson = argv.includes('--json');

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = ((s >>> 8) / (1 << 24)) * 2 - 1;
  }
  return a;
}

/** One kernel call of the network, with everything needed to run it. */
interface Layer {
  op: string;
  kind: 'gemm' | 'stem' | 'conv' | 'dw_s1' | 'dw_s2' | 'add' | 'avgpool' | 'fc' | 'softmax';
  shape: string;
  flops: number;
  run: () => void;
}

/** Lay the network out (weights packed, one buffer per tensor) and build its kernel calls. */
function buildLayers(g: Graph, k: Kernels, mem: Bump): Layer[] {
  const buf = new Map<number, number>();
  const tensorPtr = (id: number): number => {
    let p = buf.get(id);
    if (p === undefined) {
      const n = g.tensors[id]!.shape.reduce((a, b) => a * b, 1);
      p = mem.put(rand(n, id).map((v) => v * 0.5 + 0.5));
      buf.set(id, p);
    }
    return p;
  };
  // Residual adds fold into the projection GEMM that produces one of their inputs.
  const fusedAdd = new Map<number, Op>();
  for (const op of g.ops) {
    if (op.kind !== 'add') continue;
    const producer = g.ops.find((o) => o.outputs[0] === op.inputs[1]);
    if (producer?.kind === 'conv2d' && producer.kernel[0] === 1) fusedAdd.set(producer.id, op);
  }
  const layers: Layer[] = [];
  for (const op of g.ops) {
    const inT = g.tensors[op.inputs[0]!]!;
    const outT = g.tensors[op.outputs[0]!]!;
    const [, H, W, C] = inT.shape as [number, number, number, number];
    const lo = 'act' in op && op.act === 'relu6' ? 0 : -Infinity;
    const hi = 'act' in op && op.act === 'relu6' ? 6 : Infinity;
    const x = tensorPtr(inT.id);
    if (op.kind === 'conv2d') {
      const [, OH, OW, OC] = outT.shape as [number, number, number, number];
      const [kh, kw] = op.kernel;
      const w = rand(OC * kh * kw * C, op.id);
      const b = mem.put(rand(OC, op.id + 1));
      const flops = 2 * OH * OW * OC * kh * kw * C;
      if (kh === 1 && kw === 1 && op.stride[0] === 1) {
        const add = fusedAdd.get(op.id);
        const y = tensorPtr(add ? add.outputs[0]! : outT.id);
        const r = add ? tensorPtr(add.inputs[0]!) : 0;
        const wp = mem.put(packGemm1x1(w, OC, C));
        const M = H * W;
        layers.push({
          op: op.name,
          kind: 'gemm',
          shape: `${M}·${C}·${OC}${add ? '+res' : ''}`,
          flops,
          run: () => k.f32_gemm_1x1(x, M, C, wp, b, y, OC, lo, hi, r, 0),
        });
      } else if (kh === 3 && kw === 3 && op.stride[0] === 2 && op.stride[1] === 2 && op.dilation[0] === 1) {
        const y = tensorPtr(outT.id);
        const wp = mem.put(packConv3x3(w, OC, C));
        layers.push({
          op: op.name,
          kind: 'stem',
          shape: `${H}x${W}x${C}→${OC}`,
          flops,
          run: () => k.f32_conv3x3_s2(x, H, W, C, y, OH, OW, OC, op.pad.top, op.pad.left, wp, b, lo, hi),
        });
      } else {
        const y = tensorPtr(outT.id);
        const wp = mem.put(packConv(w, OC, kh, kw, C));
        layers.push({
          op: op.name,
          kind: 'conv',
          shape: `${H}x${W}x${C}→${OC} k${kh}`,
          flops,
          run: () =>
            k.f32_conv2d_generic(
              x,
              H,
              W,
              C,
              y,
              OH,
              OW,
              OC,
              kh,
              kw,
              op.stride[0],
              op.stride[1],
              op.dilation[0],
              op.dilation[1],
              op.pad.top,
              op.pad.left,
              wp,
              b,
              lo,
              hi,
            ),
        });
      }
    } else if (op.kind === 'dwconv2d') {
      const [, OH, OW] = outT.shape as [number, number, number, number];
      const y = tensorPtr(outT.id);
      const wp = mem.put(packDepthwise3x3(rand(9 * C, op.id), C));
      const b = mem.put(rand(C, op.id + 1));
      const s = op.stride[0];
      const fn = s === 1 ? k.f32_dwconv3x3_s1 : k.f32_dwconv3x3_s2;
      layers.push({
        op: op.name,
        kind: s === 1 ? 'dw_s1' : 'dw_s2',
        shape: `${H}x${W}x${C} s${s}`,
        flops: 2 * 9 * OH * OW * C,
        run: () => fn(x, H, W, C, y, OH, OW, op.pad.top, op.pad.left, wp, b, lo, hi),
      });
    } else if (op.kind === 'add') {
      if ([...fusedAdd.values()].includes(op)) continue;
      const n = outT.shape.reduce((a, b) => a * b, 1);
      const bq = tensorPtr(op.inputs[1]!),
        y = tensorPtr(outT.id);
      layers.push({ op: op.name, kind: 'add', shape: `${n}`, flops: n, run: () => k.f32_add(x, bq, y, n, lo, hi) });
    } else if (op.kind === 'global_avgpool') {
      const y = tensorPtr(outT.id);
      layers.push({
        op: op.name,
        kind: 'avgpool',
        shape: `${H * W}x${C}`,
        flops: H * W * C,
        run: () => k.f32_global_avgpool(x, H * W, C, y),
      });
    } else if (op.kind === 'fully_connected') {
      const K = inT.shape[inT.shape.length - 1]!,
        N = outT.shape[outT.shape.length - 1]!;
      const wp = mem.put(packFullyConnected(rand(N * K, op.id), N, K));
      const b = mem.put(rand(N, op.id + 1)),
        y = tensorPtr(outT.id);
      layers.push({
        op: op.name,
        kind: 'fc',
        shape: `${K}→${N}`,
        flops: 2 * K * N,
        run: () => k.f32_fully_connected(x, K, wp, b, y, N, lo, hi),
      });
    } else if (op.kind === 'softmax') {
      const n = outT.shape[outT.shape.length - 1]!,
        y = tensorPtr(outT.id);
      layers.push({
        op: op.name,
        kind: 'softmax',
        shape: `${n}`,
        flops: 0,
        run: () => k.f32_softmax(x, n, y, op.beta),
      });
    } else {
      throw new Error(`bench: no kernel for op ${op.name} (${op.kind})`);
    }
  }
  return layers;
}

const g = buildMobileNetV2({ alpha, resolution: res });
const memory = new WebAssembly.Memory({ initial: 16 });
const k = instantiateKernels(await loadKernels(), memory);
const layers = buildLayers(g, k, new Bump(memory));

// Distinct shapes (the timing of one stands for all layers that share it).
const shapes = new Map<string, { layer: Layer; count: number; reps: number; best: number }>();
for (const l of layers) {
  const key = `${l.kind} ${l.shape}`;
  const s = shapes.get(key);
  if (s) s.count++;
  else shapes.set(key, { layer: l, count: 1, reps: 1, best: Infinity });
}
for (const s of shapes.values()) {
  const t0 = performance.now();
  s.layer.run();
  s.layer.run();
  const once = Math.max((performance.now() - t0) / 2, 1e-3);
  s.reps = Math.max(1, Math.ceil(20 / once));
}
for (let t = 0; t < trials; t++) {
  for (const s of shapes.values()) {
    const t0 = performance.now();
    for (let i = 0; i < s.reps; i++) s.layer.run();
    s.best = Math.min(s.best, (performance.now() - t0) / s.reps);
  }
}
// Whole chained network, median of direct runs.
for (let i = 0; i < 3; i++) for (const l of layers) l.run();
const runs: number[] = [];
for (let i = 0; i < Math.max(15, trials * 2); i++) {
  const t0 = performance.now();
  for (const l of layers) l.run();
  runs.push(performance.now() - t0);
}
runs.sort((a, b) => a - b);
const median = runs[runs.length >> 1]!;

const rows = [...shapes.entries()].map(([key, s]) => ({
  kernel: s.layer.kind,
  shape: s.layer.shape,
  count: s.count,
  ms: s.best,
  gflops: s.layer.flops ? s.layer.flops / s.best / 1e6 : 0,
  totalMs: s.best * s.count,
}));
const byKind = new Map<string, { ms: number; flops: number }>();
for (const r of rows) {
  const e = byKind.get(r.kernel) ?? { ms: 0, flops: 0 };
  e.ms += r.totalMs;
  e.flops += r.gflops * 1e6 * r.ms * r.count;
  byKind.set(r.kernel, e);
}
const sum = rows.reduce((a, r) => a + r.totalMs, 0);
const totalFlops = layers.reduce((a, l) => a + l.flops, 0);

if (asJson) {
  console.log(
    JSON.stringify(
      { model: g.name, rows, byKind: Object.fromEntries(byKind), sumMs: sum, chainedMedianMs: median, totalFlops },
      null,
      1,
    ),
  );
} else {
  const { cpus } = await import('node:os');
  console.log(
    `${g.name}: ${layers.length} kernel calls, ${(totalFlops / 1e9).toFixed(3)} GFLOP (${(totalFlops / 2e6).toFixed(0)} M multiply-adds)`,
  );
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? '?'} ×${cpus().length}, single thread, best of ${trials} interleaved trials\n`,
  );
  console.log('kernel   shape                         ×n      ms/call   GFLOP/s   ms total');
  for (const r of rows) {
    console.log(
      `${r.kernel.padEnd(8)} ${r.shape.padEnd(28)} ${String(r.count).padStart(3)}  ${r.ms.toFixed(4).padStart(10)}  ${r.gflops ? r.gflops.toFixed(1).padStart(8) : '       -'}  ${r.totalMs.toFixed(3).padStart(9)}`,
    );
  }
  console.log('\nper kernel kind:');
  for (const [kind, e] of byKind)
    console.log(
      `  ${kind.padEnd(8)} ${e.ms.toFixed(3).padStart(8)} ms  ${e.flops ? (e.flops / e.ms / 1e6).toFixed(1).padStart(6) + ' GFLOP/s' : ''}`,
    );
  console.log(
    `\nwhole network, sum of per-shape best times: ${sum.toFixed(2)} ms (${(totalFlops / sum / 1e6).toFixed(1)} GFLOP/s)`,
  );
  console.log(
    `whole network, chained run (median of ${runs.length}): ${median.toFixed(2)} ms (min ${runs[0]!.toFixed(2)} ms)`,
  );
}
