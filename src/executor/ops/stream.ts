/**
 * A streamed step (planner/plan.ts StreamStep) as kernel calls: the pull schedule of
 * planner/stream/schedule.ts unrolled into one prepared call per (stage, band of rows),
 * run in order by the step's Call.
 *
 * - The source (the caller's image) writes each input row into the first ring when the
 *   schedule asks for it (BindContext.inputRow: the executor resizes or copies it).
 * - Blocks: q8_block / f32_block_fused called for rows [r0, r1) with the x and y rings, tiles of one band
 *   (bandRows × tileCols × all output channels, inner channels in groups of
 *   groupChannels, the int32 partial sums after the expanded window), and for 'ring'
 *   blocks the persistent expanded rows in the stage's state buffer.
 * - The head (conv_pool): the 1x1 conv on tiles of tileCols pixels into the work area,
 *   each tile's channel sums added to the pool's sums; after the last row the average, as
 *   TFLite's AVERAGE_POOL_2D / MEAN (integer) or the float pool divides.
 * - Pointwise stages (QUANTIZE, 1x1 conv): their kernel on each row.
 * - A row head (stages.ts rowHead): with a pool, the step runs the schedule twice. The
 *   first pass sums the head input's rows (q8/f32_channel_sums); after its last row the
 *   pool's mean (as the conv_pool head computes it), the ops on that vector, and the one
 *   row of each broadcast tensor (the bilinear resize of a 1×1 vector to one output row:
 *   every row of the whole resize is that row, its taps being equal). The second pass
 *   runs the head's ops on each row: 1x1 convs as one GEMM of W pixels, QUANTIZE on the
 *   row's values, a channel concatenation as strided copies, the last op writing its row
 *   of the head's output tensor.
 * After a stage writes rows into a ring with mirror rows, those rows are copied past
 * the ring's last slot (copy_strided), so the stem's taps read contiguous rows.
 */
import type { Conv2DOp, Graph, Op, QuantizeOp } from '../../../planner/ir.js';
import { tensorBytes } from '../../../planner/ir.js';
import type { Plan, StreamStagePlan, StreamStep } from '../../../planner/plan.js';
import { pullSchedule } from '../../../planner/stream/schedule.js';
import { expandRingRows } from '../../../planner/stream/config.js';
import { blockRows, stageOfPlan, stageRows } from '../../../planner/stream/stages.js';
import { packGemm1x1, packGemm1x1Length } from '../../kernels/pack.js';
import { convertMultiplier, dtypeRange, meanScale, requantize, roundedAverage } from '../../reference/q8_ops.js';
import { activationQuant } from '../../reference/q8_interpreter.js';
import { ACC_E, ACC_NONE, type BlockTile } from '../../../planner/block_schedule/integer.js';
import { blockOps, packFloatBlock, packIntegerBlock } from './block.js';
import { packQ8GemmOperands } from './q8_gemm_operands.js';
import {
  clampOf,
  f32Const,
  ioQuant,
  sgOf,
  type BindContext,
  type Binder,
  type Call,
  type LowerContext,
} from './context.js';

/** Where a stage's input or output rows live: a ring (rows > 0) or a whole tensor (rows = 0). */
interface Rows {
  buffer: number;
  /** Tensor id when it is a whole tensor's own buffer. */
  tensor: number;
  rows: number;
  rowBytes: number;
  bytes: number;
  mirrorRows: number;
}

/** A stage's calls for rows [r0, r1) in pass `pass` (0-based) of the step's passes. */
/** What lowers one stage: the step it is in, its plan, where its input and output rows live, the path. */
interface StageInput {
  cx: LowerContext;
  step: StreamStep;
  s: StreamStagePlan;
  io: { x: Rows; y: Rows };
  integer: boolean;
}
type StageBinder = (c: BindContext) => (r0: number, r1: number, pass: number) => Call;

/** The rows of a ring buffer. */
function ringRows(plan: Plan, index: number): Rows {
  const b = plan.buffers[index]!;
  if (!b.ring) throw new Error(`plan buffer '${b.name}' is not a ring`);
  return {
    buffer: index,
    tensor: -1,
    rows: b.ring.rows,
    rowBytes: b.ring.rowBytes,
    bytes: b.bytes,
    mirrorRows: b.ring.mirrorRows,
  };
}

/** The rows of a whole tensor in the arena. */
function tensorRows(g: Graph, id: number): Rows {
  const t = g.tensors[id]!;
  const h = t.shape.length === 4 ? t.shape[1]! : 1;
  const bytes = tensorBytes(t);
  return { buffer: -1, tensor: id, rows: 0, rowBytes: bytes / h, bytes, mirrorRows: 0 };
}

/** Address of a stage's rows: its ring buffer, or the whole tensor's place. */
/** One call that makes the calls in order. */
const inOrder =
  (calls: Call[]): Call =>
  () => {
    for (let i = 0; i < calls.length; i++) calls[i]!();
  };

const addr = (c: BindContext, r: Rows) => (r.tensor >= 0 ? c.tensor(r.tensor) : c.buffer(r.buffer));

/** Lowers a streamed step on the integer (`integer` true) or float path. */
export function streamStep(cx: LowerContext, step: StreamStep, integer: boolean): Binder {
  const { graph: g, plan } = cx;
  const n = step.stages.length;
  const stages = step.stages.map((s) => stageOfPlan(g, s));
  // Input and output rows of each stage: stage k reads its ring, writes stage k + 1's (the last writes its output tensor).
  const inputs = step.stages.map((s, k) =>
    k === 0 && !step.externalInput ? tensorRows(g, s.input) : ringRows(plan, s.inputBuffer),
  );
  const last = step.stages[n - 1]!;
  const outputs = step.stages.map((_, k) => (k + 1 < n ? inputs[k + 1]! : tensorRows(g, last.output)));
  const binders: StageBinder[] = step.stages.map((s, k) => {
    const io = { x: inputs[k]!, y: outputs[k]! };
    const input: StageInput = { cx, step, s, io, integer };
    if (s.kind === 'block') return integer ? integerBlockStage(input) : floatBlockStage(input);
    if (s.kind === 'conv_pool') return convPoolStage(input);
    if (s.kind === 'row_head') return rowHeadStage(input);
    return pointwiseStage(input);
  });
  const sched = pullSchedule({
    stages: stages.map((s) => stageRows(g, s)),
    bandRows: step.stages.map((s) => s.bandRows),
    ringExpanded: step.stages.map((s) => s.expanded === 'ring'),
    externalSource: step.externalInput,
  });
  const first = inputs[0]!;
  return (c) => {
    const run = binders.map((b) => b(c));
    const base = (r: Rows) => addr(c, r);
    // Copies rows [r0, r1) of a ring into its mirror slots, where they have one.
    const mirror = (r: Rows, r0: number, r1: number): Call[] => {
      const out: Call[] = [];
      if (!r.mirrorRows) return out;
      const at = base(r);
      for (let row = r0; row < r1; row++) {
        const slot = row % r.rows;
        if (slot >= r.mirrorRows) continue;
        const [src, dst] = [at + slot * r.rowBytes, at + (r.rows + slot) * r.rowBytes];
        out.push(
          c.b.copy_strided({ src, dst, rows: 1, rowBytes: r.rowBytes, srcStride: r.rowBytes, dstStride: r.rowBytes }),
        );
      }
      return out;
    };
    const calls: Call[] = [];
    const firstAt = base(first);
    for (let pass = 0; pass < step.passes; pass++) {
      for (const call of sched.calls) {
        if (call.stage < 0) {
          const row = call.r0;
          const at = firstAt + (row % first.rows) * first.rowBytes;
          calls.push(() => c.inputRow(row, at));
          calls.push(...mirror(first, row, row + 1));
          continue;
        }
        calls.push(run[call.stage]!(call.r0, call.r1, pass));
        if (call.stage + 1 < n) calls.push(...mirror(inputs[call.stage + 1]!, call.r0, call.r1));
      }
    }
    return inOrder(calls);
  };
}

/** The int8 fused block on one band per call: tiles of tileCols columns, groups of groupChannels. */
function integerBlockStage({ cx, step, s, io }: StageInput): StageBinder {
  const g = cx.graph;
  const { yId } = blockOps(g, s);
  const Wd = g.tensors[yId]!.shape[2]!;
  const Cout = g.tensors[yId]!.shape[3]!;
  const Cexp = g.tensors[g.ops[s.expand]!.outputs[0]!]!.shape[3]!;
  const G = s.groupChannels;
  const groups = Math.ceil(Cexp / G);
  const u: 1 | 8 = G === Cexp || G % 8 === 0 ? 8 : 1;
  const tiles: BlockTile[] = [];
  for (let q0 = 0; q0 < Wd; q0 += s.tileCols) {
    tiles.push({
      r0: 0,
      r1: s.bandRows,
      q0,
      q1: Math.min(Wd, q0 + s.tileCols),
      n0: 0,
      n1: Cout,
      G,
      acc: groups > 1 ? ACC_E : ACC_NONE,
      accOffset: groups > 1 ? s.accOffset : 0,
    });
  }
  const { pDesc, descBytes } = packIntegerBlock(cx, s, u, tiles, s.expanded === 'ring');
  const W = cx.weights;
  const ring = s.expanded === 'ring';
  const eBytes = ring ? cx.plan.buffers[s.stateBuffer]!.bytes : s.expandWork.bytes;
  const dBytes = s.depthwiseWork.bytes;
  return (c) => {
    const [wb, da] = [c.weight(0), c.weight(pDesc)];
    const xa = addr(c, io.x);
    const ya = addr(c, io.y);
    const work = c.buffer(step.workBuffer);
    const ea = ring ? c.buffer(s.stateBuffer) : work + s.expandWork.offset;
    const dd = work + s.depthwiseWork.offset;
    const wBytes = W.bytes;
    return (r0, r1) =>
      c.b.q8_block({
        desc: da,
        descBytes,
        wb,
        wBytes,
        x: xa,
        xBytes: io.x.bytes,
        y: ya,
        yBytes: io.y.bytes,
        e: ea,
        eBytes,
        d: dd,
        dBytes,
        r0,
        r1,
        xRows: io.x.rows,
        yRows: io.y.rows,
      });
  };
}

/** The float fused block on one band per call (whole rows; groups of groupChannels accumulate in y). */
function floatBlockStage({ cx, step, s, io }: StageInput): StageBinder {
  const g = cx.graph;
  const { expand, dw, project, add, yId } = blockOps(g, s);
  const st = stageOfPlan(g, s);
  const br = blockRows(g, st.block!);
  const x = g.tensors[expand.inputs[0]!]!.shape;
  const y = g.tensors[yId]!.shape;
  const ring = s.expanded === 'ring';
  const G = ring ? br.Cexp : s.groupChannels;
  const ringRows = expandRingRows(br, s.bandRows);
  const wOff = packFloatBlock(cx, s, G);
  const stem = expand.kernel[0] > 1;
  const [lo, hi] = clampOf(add ? (add as { act: 'none' | 'relu' | 'relu6' }).act : project.act);
  const residual = !!add;
  return (c) => {
    const xa = addr(c, io.x);
    const ya = addr(c, io.y);
    const w = c.weight(wOff);
    const work = c.buffer(step.workBuffer);
    const e = ring ? c.buffer(s.stateBuffer) : work + s.expandWork.offset;
    const d = work + s.depthwiseWork.offset;
    return (r0, r1) =>
      c.b.f32_block_fused({
        x: xa,
        H: x[1]!,
        W: x[2]!,
        Cin: x[3]!,
        stem: stem ? 1 : 0,
        He: br.He,
        We: br.We,
        ePadTop: stem ? expand.pad.top : 0,
        ePadLeft: stem ? expand.pad.left : 0,
        Cexp: br.Cexp,
        sh: dw.stride[0],
        sw: dw.stride[1],
        dh: dw.dilation[0],
        dw: dw.dilation[1],
        dPadTop: dw.pad.top,
        dPadLeft: dw.pad.left,
        y: ya,
        OH: y[1]!,
        OW: y[2]!,
        Cout: y[3]!,
        w,
        res: residual ? xa : 0,
        lo,
        hi,
        e,
        d,
        g: G,
        ringRows,
        bandRows: s.bandRows,
        r0,
        r1,
        xRows: io.x.rows,
        xBytes: io.x.bytes,
        yRows: io.y.rows,
        yBytes: io.y.bytes,
        persist: ring ? 1 : 0,
      });
  };
}

/**
 * The head: 1x1 conv on tiles of tileCols pixels into the work area, their channel sums
 * added to the pool's sums (state buffer); after the last row the pooled output.
 */
function convPoolStage({ cx, step, s, io, integer }: StageInput): StageBinder {
  const g = cx.graph;
  const conv = g.ops[s.ops[0]!] as Conv2DOp;
  const pool = g.ops[s.ops[1]!]!;
  const [H, Wd, Cin] = g.tensors[conv.inputs[0]!]!.shape.slice(1) as [number, number, number];
  const C = g.tensors[conv.outputs[0]!]!.shape[3]!;
  const n = H * Wd;
  const outId = pool.outputs[0]!;
  const gemm = conv1x1(cx, conv, integer);
  const meanOf = integer ? integerMean(g, pool, C, n) : floatMean(C, n);
  const sg = integer ? ioQuant(g, conv).sg : 0;
  return (c) => {
    const run = gemm(c);
    const [xa, work, sums] = [addr(c, io.x), c.buffer(step.workBuffer) + s.expandWork.offset, c.buffer(s.stateBuffer)];
    const mean = meanOf(c, sums, c.tensor(outId));
    const pixelBytes = integer ? Cin : 4 * Cin;
    return (r0, r1) => {
      const parts: Call[] = [];
      for (let r = r0; r < r1; r++) {
        const row = xa + (io.x.rows ? r % io.x.rows : r) * io.x.rowBytes;
        for (let p0 = 0; p0 < Wd; p0 += s.tileCols) {
          const m = Math.min(s.tileCols, Wd - p0);
          const first = r === 0 && p0 === 0 ? 1 : 0;
          parts.push(
            run(row + p0 * pixelBytes, m, work),
            integer
              ? c.b.q8_channel_sums({ x: work, P: m, C, acc: sums, first, sg })
              : c.b.f32_channel_sums({ x: work, P: m, C, acc: sums, first }),
          );
        }
      }
      if (r1 === H) parts.push(mean);
      return inOrder(parts);
    };
  };
}

/**
 * The pool's output from its int32 sums over n pixels, as the pool computes it (TFLite's
 * AVERAGE_POOL_2D rounding on one grid, else MEAN's requantization): C values, in JS, exactly.
 */
function integerMean(g: Graph, pool: Op, C: number, n: number) {
  const px = activationQuant(g.tensors[pool.inputs[0]!]!, pool);
  const py = activationQuant(g.tensors[pool.outputs[0]!]!, pool);
  const [plo, phi] = dtypeRange(py.dtype);
  const same = px.s === py.s && px.z === py.z;
  const ms = meanScale(px.s, py.s, n);
  return (c: BindContext, sums: number, out: number): Call =>
    () => {
      const mem = c.k.memory.buffer;
      const acc = new Int32Array(mem, sums, C);
      const y = py.dtype === 'u8' ? new Uint8Array(mem, out, C) : new Int8Array(mem, out, C);
      for (let ch = 0; ch < C; ch++) {
        const v = same ? roundedAverage(acc[ch]!, n) : requantize(acc[ch]! - n * px.z, ms, py.z, plo, phi);
        y[ch] = v < plo ? plo : v > phi ? phi : v;
      }
    };
}

/** The pool's mean from its float32 sums in pixel order: one float32 division (as f32_global_avgpool). */
function floatMean(C: number, n: number) {
  return (c: BindContext, sums: number, out: number): Call =>
    () => {
      const mem = c.k.memory.buffer;
      const acc = new Float32Array(mem, sums, C);
      const y = new Float32Array(mem, out, C);
      for (let ch = 0; ch < C; ch++) y[ch] = Math.fround(acc[ch]! / n);
    };
}

/** A QUANTIZE or 1x1 conv, row by row. */
function pointwiseStage({ cx, s, io, integer }: StageInput): StageBinder {
  const g = cx.graph;
  const op = g.ops[s.ops[0]!]!;
  const rowOf = (r: Rows, base: number, row: number) => base + (r.rows ? row % r.rows : row) * r.rowBytes;
  if (op.kind === 'quantize') {
    if (!integer) throw new Error(`'${op.name}': a QUANTIZE runs on the integer path only`);
    const q = op as QuantizeOp;
    const [xq, yq] = [activationQuant(g.tensors[q.inputs[0]!]!, q), activationQuant(g.tensors[q.outputs[0]!]!, q)];
    const n = io.y.rowBytes;
    return (c) => {
      const [xa, ya, k] = [addr(c, io.x), addr(c, io.y), c.k];
      if (xq.dtype === yq.dtype) {
        const m = convertMultiplier(xq.s, yq.s)!;
        return (r0, r1) => () => {
          for (let r = r0; r < r1; r++)
            k.q8_convert(rowOf(io.x, xa, r), n, rowOf(io.y, ya, r), xq.z, m, yq.z, sgOf(yq.dtype));
        };
      }
      const m = Math.fround(Math.fround(xq.s) / Math.fround(yq.s));
      return (r0, r1) => () => {
        for (let r = r0; r < r1; r++)
          k.q8_requantize(rowOf(io.x, xa, r), n, rowOf(io.y, ya, r), xq.z, m, yq.z, sgOf(xq.dtype), sgOf(yq.dtype));
      };
    };
  }
  const conv = op as Conv2DOp;
  const Wd = g.tensors[conv.inputs[0]!]!.shape[2]!;
  const gemm = conv1x1(cx, conv, integer);
  return (c) => {
    const [xa, ya, run] = [addr(c, io.x), addr(c, io.y), gemm(c)];
    return (r0, r1) => {
      const calls = Array.from({ length: r1 - r0 }, (_, i) =>
        run(rowOf(io.x, xa, r0 + i), Wd, rowOf(io.y, ya, r0 + i)),
      );
      return inOrder(calls);
    };
  };
}

/** A 1x1 conv as a GEMM over M pixels from x to y (contiguous pixels), weights packed once. */
function conv1x1(
  cx: LowerContext,
  conv: Conv2DOp,
  integer: boolean,
): (c: BindContext) => (x: number, M: number, y: number) => Call {
  const { model, graph: g, weights: W } = cx;
  const Cin = g.tensors[conv.inputs[0]!]!.shape[3]!;
  const C = g.tensors[conv.outputs[0]!]!.shape[3]!;
  if (integer) {
    const operands = packQ8GemmOperands(cx, conv, C, Cin);
    return (c) => {
      const gemm = operands(c);
      return (x, M, y) => c.b.q8_gemm({ ...gemm, x, M, xs: Cin, y, ys: C, res: 0, rs: 0 });
    };
  }
  const [lo, hi] = clampOf(conv.act);
  const b = W.add(4 * C, () => (conv.bias >= 0 ? f32Const(model, conv.bias, conv) : new Float32Array(C)));
  const pw = W.add(4 * packGemm1x1Length(C, Cin), () => packGemm1x1(f32Const(model, conv.weights, conv), C, Cin));
  return (c) => {
    const [wa, ba] = [c.weight(pw), c.weight(b)];
    return (x, M, y) => c.b.f32_gemm_1x1({ x, M, K: Cin, w: wa, b: ba, y, N: C, lo, hi, res: 0, accumulate: 0 });
  };
}

/**
 * A row head (see the file comment). Its tensors live where the plan's head areas say:
 * the input's rows in its ring, 'row' tensors one row each in the work area, 'const'
 * vectors and 'bcast' rows in the state buffer, the output whole in the arena.
 */
function rowHeadStage({ cx, step, s, io, integer }: StageInput): StageBinder {
  const g = cx.graph;
  const st = stageOfPlan(g, s);
  const head = st.head!;
  const areas = s.head;
  if (!areas) throw new Error(`stage '${s.name}' is a row head without its areas`);
  const eb = integer ? 1 : 4;
  const [H, Wd, Cin] = [st.inH, st.inW, st.inC];
  const kindOf = new Map(head.tensors.map((t) => [t.id, t.kind]));
  const areaOf = new Map([...areas.state, ...areas.work].map((a) => [a.tensor, a]));
  const sumsArea = areas.state.find((a) => a.kind === 'sums');
  const pixelsOf = (id: number) => (kindOf.get(id) === 'const' ? 1 : Wd);
  const channelsOf = (id: number) => {
    const sh = g.tensors[id]!.shape;
    return sh[sh.length - 1]!;
  };
  // Per op: when it runs ('once' between the passes, 'row' in the last pass) and its lowering.
  type OpCall = (c: BindContext, at: (id: number, r: number) => number) => (r: number) => Call;
  const once: OpCall[] = [];
  const perRow: OpCall[] = [];
  let pool: { finish: (c: BindContext, out: number) => Call; C: number } | undefined;
  for (const id of head.ops) {
    const op = g.ops[id]!;
    const y = op.outputs[0]!;
    const list = (kindOf.get(y) ?? 'row') === 'row' ? perRow : once;
    if (op.kind === 'global_avgpool') {
      const n = H * Wd;
      if (integer) {
        const px = activationQuant(g.tensors[op.inputs[0]!]!, op);
        const py = activationQuant(g.tensors[y]!, op);
        const [plo, phi] = dtypeRange(py.dtype);
        const same = px.s === py.s && px.z === py.z;
        const ms = meanScale(px.s, py.s, n);
        pool = {
          C: Cin,
          finish: (c, out) => () => {
            // The mean as the whole-tensor pool computes it (AVERAGE_POOL_2D rounding on one grid, else MEAN's requantization).
            const mem = c.k.memory.buffer;
            const acc = new Int32Array(mem, c.buffer(s.stateBuffer) + sumsArea!.offset, Cin);
            const yv = py.dtype === 'u8' ? new Uint8Array(mem, out, Cin) : new Int8Array(mem, out, Cin);
            for (let ch = 0; ch < Cin; ch++) {
              const v = same ? roundedAverage(acc[ch]!, n) : requantize(acc[ch]! - n * px.z, ms, py.z, plo, phi);
              yv[ch] = v < plo ? plo : v > phi ? phi : v;
            }
          },
        };
      } else {
        pool = {
          C: Cin,
          finish: (c, out) => () => {
            // Sums in pixel order, one float32 division (as f32_global_avgpool).
            const mem = c.k.memory.buffer;
            const acc = new Float32Array(mem, c.buffer(s.stateBuffer) + sumsArea!.offset, Cin);
            const yv = new Float32Array(mem, out, Cin);
            for (let ch = 0; ch < Cin; ch++) yv[ch] = Math.fround(acc[ch]! / n);
          },
        };
      }
      continue;
    }
    if (op.kind === 'conv2d') {
      const gemm = conv1x1(cx, op, integer);
      const M = pixelsOf(y);
      list.push((c, at) => {
        const run = gemm(c);
        return (r) => run(at(op.inputs[0]!, r), M, at(y, r));
      });
      continue;
    }
    if (op.kind === 'quantize') {
      if (!integer) throw new Error(`'${op.name}': a QUANTIZE runs on the integer path only`);
      const [xq, yq] = [activationQuant(g.tensors[op.inputs[0]!]!, op), activationQuant(g.tensors[y]!, op)];
      const n = pixelsOf(y) * channelsOf(y);
      list.push((c, at) => {
        const k = c.k;
        if (xq.dtype === yq.dtype) {
          const m = convertMultiplier(xq.s, yq.s)!;
          return (r) => {
            const [xa, ya] = [at(op.inputs[0]!, r), at(y, r)];
            return () => k.q8_convert(xa, n, ya, xq.z, m, yq.z, sgOf(yq.dtype));
          };
        }
        const m = Math.fround(Math.fround(xq.s) / Math.fround(yq.s));
        return (r) => {
          const [xa, ya] = [at(op.inputs[0]!, r), at(y, r)];
          return () => k.q8_requantize(xa, n, ya, xq.z, m, yq.z, sgOf(xq.dtype), sgOf(yq.dtype));
        };
      });
      continue;
    }
    if (op.kind === 'resize_bilinear') {
      // One output row of the resize of a 1×1 vector (every row of the whole resize equals it).
      const C = channelsOf(y);
      const args = {
        H: 1,
        W: 1,
        C,
        OH: 1,
        OW: Wd,
        alignCorners: op.alignCorners ? 1 : 0,
        halfPixelCenters: op.halfPixelCenters ? 1 : 0,
      };
      const sg = integer ? ioQuant(g, op).sg : 0;
      list.push((c, at) => (r) => {
        const [x, ya] = [at(op.inputs[0]!, r), at(y, r)];
        return integer
          ? c.b.q8_resize_bilinear({ x, y: ya, ...args, sg })
          : c.b.f32_resize_bilinear({ x, y: ya, ...args });
      });
      continue;
    }
    if (op.kind === 'concat') {
      const outRow = channelsOf(y) * eb;
      list.push((c, at) => (r) => {
        const dst = at(y, r);
        let col = 0;
        const copies = op.inputs.map((i) => {
          const part = channelsOf(i) * eb;
          const copy = c.b.copy_strided({
            src: at(i, r),
            dst: dst + col,
            rows: Wd,
            rowBytes: part,
            srcStride: part,
            dstStride: outRow,
          });
          col += part;
          return copy;
        });
        return () => {
          for (const f of copies) f();
        };
      });
      continue;
    }
    throw new Error(`'${op.name}' (${op.kind}) cannot run in a row head`);
  }
  return (c) => {
    const state = s.stateBuffer >= 0 ? c.buffer(s.stateBuffer) : 0;
    const work = c.buffer(step.workBuffer) + s.expandWork.offset;
    const xa = addr(c, io.x);
    const ya = addr(c, io.y);
    const at = (id: number, r: number): number => {
      if (id === s.input) return xa + (io.x.rows ? r % io.x.rows : r) * io.x.rowBytes;
      if (id === s.output) return ya + r * io.y.rowBytes;
      const a = areaOf.get(id);
      if (!a) throw new Error(`row head '${s.name}': no area for '${g.tensors[id]!.name}'`);
      return (a.kind === 'row' ? work : state) + a.offset;
    };
    const rowCalls = perRow.map((f) => f(c, at));
    const onceCalls = once.map((f) => f(c, at)(0));
    const sums = sumsArea ? state + sumsArea.offset : 0;
    const poolOut = head.pool >= 0 ? at(g.ops[head.pool]!.outputs[0]!, 0) : 0;
    const finish = pool ? pool.finish(c, poolOut) : undefined;
    const sg = g.tensors[s.input]!.dtype === 'i8' ? 1 : 0;
    return (r0, r1, pass) => {
      const parts: Call[] = [];
      if (pass + 1 < step.passes) {
        // First pass: the pool's sums; after the last row the mean and the vectors and broadcast rows made from it.
        for (let r = r0; r < r1; r++) {
          const x = at(s.input, r);
          const first = r === 0 ? 1 : 0;
          parts.push(
            integer
              ? c.b.q8_channel_sums({ x, P: Wd, C: Cin, acc: sums, first, sg })
              : c.b.f32_channel_sums({ x, P: Wd, C: Cin, acc: sums, first }),
          );
        }
        if (r1 === H) parts.push(finish!, ...onceCalls);
      } else {
        for (let r = r0; r < r1; r++) for (const f of rowCalls) parts.push(f(r));
      }
      return inOrder(parts);
    };
  };
}
