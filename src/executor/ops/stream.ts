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
 * After a stage writes rows into a ring with mirror rows, those rows are copied past
 * the ring's last slot (copy_strided), so the stem's taps read contiguous rows.
 */
import type { Conv2DOp, Graph, QuantizeOp } from '../../../planner/ir.js';
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
import { clampOf, f32Const, sgOf, type BindContext, type Binder, type Call, type LowerContext } from './context.js';

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

type StageBinder = (c: BindContext) => (r0: number, r1: number) => Call;

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
    if (s.kind === 'block') return integer ? integerBlockStage(cx, step, s, io) : floatBlockStage(cx, step, s, io);
    if (s.kind === 'conv_pool') return convPoolStage(cx, step, s, io, integer);
    return pointwiseStage(cx, s, io, integer);
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
    for (const call of sched.calls) {
      if (call.stage < 0) {
        const row = call.r0;
        const at = firstAt + (row % first.rows) * first.rowBytes;
        calls.push(() => c.inputRow(row, at));
        calls.push(...mirror(first, row, row + 1));
        continue;
      }
      calls.push(run[call.stage]!(call.r0, call.r1));
      if (call.stage + 1 < n) calls.push(...mirror(inputs[call.stage + 1]!, call.r0, call.r1));
    }
    return () => {
      for (let i = 0; i < calls.length; i++) calls[i]!();
    };
  };
}

/** The int8 fused block on one band per call: tiles of tileCols columns, groups of groupChannels. */
function integerBlockStage(
  cx: LowerContext,
  step: StreamStep,
  s: StreamStagePlan,
  io: { x: Rows; y: Rows },
): StageBinder {
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
function floatBlockStage(
  cx: LowerContext,
  step: StreamStep,
  s: StreamStagePlan,
  io: { x: Rows; y: Rows },
): StageBinder {
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
function convPoolStage(
  cx: LowerContext,
  step: StreamStep,
  s: StreamStagePlan,
  io: { x: Rows; y: Rows },
  integer: boolean,
): StageBinder {
  const { model, graph: g, weights: W } = cx;
  const conv = g.ops[s.ops[0]!] as Conv2DOp;
  const pool = g.ops[s.ops[1]!]!;
  const [H, Wd, Cin] = g.tensors[conv.inputs[0]!]!.shape.slice(1) as [number, number, number];
  const C = g.tensors[conv.outputs[0]!]!.shape[3]!;
  const n = H * Wd;
  const q = s.tileCols;
  const outId = pool.outputs[0]!;
  /** The head's input rows, its work area (one tile's conv output), the pool's sums and its output. */
  const headAddresses = (c: BindContext) => ({
    xa: addr(c, io.x),
    work: c.buffer(step.workBuffer) + s.expandWork.offset,
    sums: c.buffer(s.stateBuffer),
    out: c.tensor(outId),
  });
  if (integer) {
    const operands = packQ8GemmOperands(cx, conv, C, Cin);
    const px = activationQuant(g.tensors[pool.inputs[0]!]!, pool);
    const py = activationQuant(g.tensors[outId]!, pool);
    const [plo, phi] = dtypeRange(py.dtype);
    const same = px.s === py.s && px.z === py.z;
    const ms = meanScale(px.s, py.s, n);
    return (c) => {
      const gemm = operands(c);
      const { xa, work, sums, out } = headAddresses(c);
      const mean: Call = () => {
        // The average of the sums as the pool computes it (TFLite's AVERAGE_POOL_2D rounding
        // on one grid, else MEAN's requantization), 1280 values: in JS, exactly.
        const mem = c.k.memory.buffer;
        const acc = new Int32Array(mem, sums, C);
        const y = py.dtype === 'u8' ? new Uint8Array(mem, out, C) : new Int8Array(mem, out, C);
        for (let ch = 0; ch < C; ch++) {
          const v = same ? roundedAverage(acc[ch]!, n) : requantize(acc[ch]! - n * px.z, ms, py.z, plo, phi);
          y[ch] = v < plo ? plo : v > phi ? phi : v;
        }
      };
      return headBand({ H, Wd, q, rows: io.x, base: xa, pixelBytes: Cin, mean }, (src, m, first) => [
        c.b.q8_gemm({ ...gemm, x: src, M: m, xs: Cin, y: work, ys: C, res: 0, rs: 0 }),
        c.b.q8_channel_sums({ x: work, P: m, C, acc: sums, first, sg: gemm.sg }),
      ]);
    };
  }
  const [lo, hi] = clampOf(conv.act);
  const b = W.add(4 * C, () => (conv.bias >= 0 ? f32Const(model, conv.bias, conv) : new Float32Array(C)));
  const pw = W.add(4 * packGemm1x1Length(C, Cin), () => packGemm1x1(f32Const(model, conv.weights, conv), C, Cin));
  return (c) => {
    const [wa, ba] = [c.weight(pw), c.weight(b)];
    const { xa, work, sums, out } = headAddresses(c);
    const mean: Call = () => {
      // The pool's mean: sums in pixel order, one float32 division (as f32_global_avgpool).
      const mem = c.k.memory.buffer;
      const acc = new Float32Array(mem, sums, C);
      const y = new Float32Array(mem, out, C);
      for (let ch = 0; ch < C; ch++) y[ch] = Math.fround(acc[ch]! / n);
    };
    return headBand({ H, Wd, q, rows: io.x, base: xa, pixelBytes: Cin * 4, mean }, (src, m, first) => [
      c.b.f32_gemm_1x1({ x: src, M: m, K: Cin, w: wa, b: ba, y: work, N: C, lo, hi, res: 0, accumulate: 0 }),
      c.b.f32_channel_sums({ x: work, P: m, C, acc: sums, first }),
    ]);
  };
}

/**
 * Rows [r0, r1) of the head, each in tiles of q pixels (`tile` gives a tile's calls: its 1x1 conv
 * and the sums of its channels; `first` marks the first tile of the image, which sets the sums
 * instead of adding to them), and after the last row the pool's `mean`.
 */
function headBand(
  h: { H: number; Wd: number; q: number; rows: Rows; base: number; pixelBytes: number; mean: Call },
  tile: (src: number, m: number, first: 0 | 1) => Call[],
): (r0: number, r1: number) => Call {
  return (r0, r1) => {
    const parts: Call[] = [];
    for (let r = r0; r < r1; r++) {
      const row = h.base + (h.rows.rows ? r % h.rows.rows : r) * h.rows.rowBytes;
      for (let p0 = 0; p0 < h.Wd; p0 += h.q)
        parts.push(...tile(row + p0 * h.pixelBytes, Math.min(h.q, h.Wd - p0), r === 0 && p0 === 0 ? 1 : 0));
    }
    if (r1 === h.H) parts.push(h.mean);
    return () => {
      for (let i = 0; i < parts.length; i++) parts[i]!();
    };
  };
}

/** A QUANTIZE or 1x1 conv, row by row. */
function pointwiseStage(cx: LowerContext, s: StreamStagePlan, io: { x: Rows; y: Rows }, integer: boolean): StageBinder {
  const { model, graph: g, weights: W } = cx;
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
  const [, Wd, Cin] = g.tensors[conv.inputs[0]!]!.shape.slice(1) as [number, number, number];
  const C = g.tensors[conv.outputs[0]!]!.shape[3]!;
  if (integer) {
    const operands = packQ8GemmOperands(cx, conv, C, Cin);
    return (c) => {
      const [xa, ya] = [addr(c, io.x), addr(c, io.y)];
      const gemm = operands(c);
      return (r0, r1) => {
        const calls = Array.from({ length: r1 - r0 }, (_, i) =>
          c.b.q8_gemm({
            ...gemm,
            x: rowOf(io.x, xa, r0 + i),
            M: Wd,
            xs: Cin,
            y: rowOf(io.y, ya, r0 + i),
            ys: C,
            res: 0,
            rs: 0,
          }),
        );
        return () => calls.forEach((f) => f());
      };
    };
  }
  const [lo, hi] = clampOf(conv.act);
  const b = W.add(4 * C, () => (conv.bias >= 0 ? f32Const(model, conv.bias, conv) : new Float32Array(C)));
  const pw = W.add(4 * packGemm1x1Length(C, Cin), () => packGemm1x1(f32Const(model, conv.weights, conv), C, Cin));
  return (c) => {
    const [xa, ya, k] = [addr(c, io.x), addr(c, io.y), c.k];
    const [wa, ba] = [c.weight(pw), c.weight(b)];
    return (r0, r1) => () => {
      for (let r = r0; r < r1; r++)
        k.f32_gemm_1x1(rowOf(io.x, xa, r), Wd, Cin, wa, ba, rowOf(io.y, ya, r), C, lo, hi, 0, 0);
    };
  };
}
