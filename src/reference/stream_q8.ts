/**
 * Reference of row-streamed execution on the integer path: runs a plan's streamed
 * step call by call, in the pull schedule (planner/stream/schedule.ts), with the
 * scalar arithmetic of q8_ops.ts, holding only what the plan gives it:
 * - every stage input in a ring of the plan's size, each slot tagged with the row it
 *   holds; writing a row poisons the slot's previous row (its bytes are overwritten
 *   with a poison pattern first, its tag replaced), and reading a row whose slot holds
 *   another one throws: a ring one row too small cannot go unnoticed;
 * - 'ring' blocks keep their expanded rows in a tagged ring of the plan's rows;
 *   'recompute' blocks expand, for every call, exactly the rows the call's window reads.
 * Column tiles and channel groups change nothing in exact integer sums, so the
 * reference runs whole rows; it checks the schedule, the receptive fields and the
 * ring sizes, and what the kernels must produce (tests compare it with interpretQ8).
 */
import type { Conv2DOp, DepthwiseConv2DOp, Graph, Op } from '../../planner/ir.js';
import type { Plan, StreamStep, StreamStagePlan } from '../../planner/plan.js';
import { pullSchedule } from '../../planner/stream/schedule.js';
import {
  blockRows,
  expandedRowsComputed,
  expandedRowsOf,
  stageOfPlan,
  stageRows,
  type BlockRows,
  type StreamStage,
} from '../../planner/stream/stages.js';
import type { ConstantStore } from '../model.js';
import { activationQuant, weightQuant, type QValue } from './q8_interpreter.js';
import * as q from './q8_ops.js';

export class RingReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RingReadError';
  }
}

/** A line buffer: `rows` slots of `width` values, each tagged with the row it holds. */
class Ring {
  readonly data: Int32Array;
  readonly tags: Int32Array;
  constructor(
    readonly what: string,
    readonly rows: number,
    readonly width: number,
  ) {
    this.data = new Int32Array(rows * width);
    this.tags = new Int32Array(rows).fill(-1);
  }
  write(r: number, values: ArrayLike<number>): void {
    const slot = r % this.rows;
    // Poison the row this slot held: a stale read would see neither its bytes nor its tag.
    this.data.fill(0x7fff_0000 | (this.tags[slot]! & 0xffff), slot * this.width, (slot + 1) * this.width);
    this.data.set(values, slot * this.width);
    this.tags[slot] = r;
  }
  read(r: number): Int32Array {
    const slot = r % this.rows;
    if (this.tags[slot] !== r)
      throw new RingReadError(
        `${this.what}: row ${r} was read, but its slot ${slot} of ${this.rows} holds ${this.tags[slot]! < 0 ? 'nothing yet' : `row ${this.tags[slot]}`}`,
      );
    return this.data.subarray(slot * this.width, (slot + 1) * this.width);
  }
}

interface ConvParams {
  w: Uint8Array | Int8Array;
  bias: Int32Array | null;
  zx: number;
  zw: number[];
  scale: number[];
  zOut: number;
  lo: number;
  hi: number;
}

function convParams(
  graph: Graph,
  constants: ConstantStore,
  op: Conv2DOp | DepthwiseConv2DOp,
  channels: number,
): ConvParams {
  const x = activationQuant(graph.tensors[op.inputs[0]!]!, op);
  const y = activationQuant(graph.tensors[op.outputs[0]!]!, op);
  const { scale, zw } = weightQuant(graph, op, channels);
  const [lo, hi] = q.activationRange(op.act, y.s, y.z, y.dtype);
  const w = constants.get(op.weights);
  if (!(w instanceof Uint8Array) && !(w instanceof Int8Array))
    throw new Error(`weights of '${op.name}' are not uint8/int8`);
  const b = op.bias >= 0 ? constants.get(op.bias) : null;
  if (b !== null && !(b instanceof Int32Array)) throw new Error(`bias of '${op.name}' is not int32`);
  return { w, bias: b, zx: x.z, zw, scale, zOut: y.z, lo, hi };
}

const at = (a: ArrayLike<number>, i: number) => a[a.length === 1 ? 0 : i]!;

/** One output row of a conv2d (OHWI weights) from the rows its taps read (`row(iy)`, null outside the image). */
function convRow(
  op: Conv2DOp,
  p: ConvParams,
  oy: number,
  inW: number,
  inC: number,
  outW: number,
  outC: number,
  row: (iy: number) => ArrayLike<number> | null,
): Int32Array {
  const [kh, kw] = op.kernel;
  const out = new Int32Array(outW * outC);
  const rows: (ArrayLike<number> | null)[] = [];
  for (let ky = 0; ky < kh; ky++) rows.push(row(oy * op.stride[0] - op.pad.top + ky * op.dilation[0]));
  for (let ox = 0; ox < outW; ox++) {
    for (let o = 0; o < outC; o++) {
      const zw = at(p.zw, o);
      let acc = p.bias ? p.bias[o]! : 0;
      for (let ky = 0; ky < kh; ky++) {
        const xr = rows[ky];
        if (!xr) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * op.stride[1] - op.pad.left + kx * op.dilation[1];
          if (ix < 0 || ix >= inW) continue;
          const wb = ((o * kh + ky) * kw + kx) * inC;
          for (let i = 0; i < inC; i++) acc += (xr[ix * inC + i]! - p.zx) * (p.w[wb + i]! - zw);
        }
      }
      out[ox * outC + o] = q.requantize(acc, at(p.scale, o), p.zOut, p.lo, p.hi);
    }
  }
  return out;
}

/** One output row of a 3x3 depthwise conv (weights [1][3][3][C]). */
function depthwiseRow(
  op: DepthwiseConv2DOp,
  p: ConvParams,
  oy: number,
  inW: number,
  C: number,
  outW: number,
  row: (iy: number) => ArrayLike<number> | null,
): Int32Array {
  const [kh, kw] = op.kernel;
  const out = new Int32Array(outW * C);
  const rows: (ArrayLike<number> | null)[] = [];
  for (let ky = 0; ky < kh; ky++) rows.push(row(oy * op.stride[0] - op.pad.top + ky * op.dilation[0]));
  for (let ox = 0; ox < outW; ox++) {
    for (let c = 0; c < C; c++) {
      const zw = at(p.zw, c);
      let acc = p.bias ? p.bias[c]! : 0;
      for (let ky = 0; ky < kh; ky++) {
        const xr = rows[ky];
        if (!xr) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * op.stride[1] - op.pad.left + kx * op.dilation[1];
          if (ix < 0 || ix >= inW) continue;
          acc += (xr[ix * C + c]! - p.zx) * (p.w[(ky * kw + kx) * C + c]! - zw);
        }
      }
      out[ox * C + c] = q.requantize(acc, at(p.scale, c), p.zOut, p.lo, p.hi);
    }
  }
  return out;
}

interface StageRun {
  plan: StreamStagePlan;
  stage: StreamStage;
  /** The ring of this stage's input (every stage's, the first's too: a whole input is a ring of all its rows). */
  input: Ring;
  /** Runs output rows [r0, r1) and returns them (row by row). */
  run(r0: number, r1: number): Int32Array[];
}

/**
 * Runs the streamed step `step` of `plan` on `input` (the graph input's bytes when the
 * stream reads the caller's image, else the whole input tensor's bytes) and returns the
 * stream's output tensor. Throws RingReadError when a ring of the plan is too small.
 */
export function interpretStreamQ8(
  graph: Graph,
  constants: ConstantStore,
  plan: Plan,
  step: StreamStep,
  input: QValue,
): QValue {
  const head = step.stages.find((s) => s.kind === 'row_head');
  if (head)
    throw new Error(
      `stage '${head.name}' is a row head, which this reference does not run: interpret the stream up to its last block and the head with interpretQ8`,
    );
  const stages = step.stages.map((s) => stageOfPlan(graph, s));
  const outT = graph.tensors[step.stages[step.stages.length - 1]!.output]!;
  const outQ = activationQuant(outT, graph.ops[outT.producer]!);
  const outData =
    outQ.dtype === 'u8'
      ? new Uint8Array(outT.shape.reduce((a, b) => a * b, 1))
      : new Int8Array(outT.shape.reduce((a, b) => a * b, 1));
  const runs: StageRun[] = step.stages.map((sp, k) => {
    const st = stages[k]!;
    const width = st.inW * st.inC;
    const buf = plan.buffers[sp.inputBuffer]!;
    const input = new Ring(
      `${st.name} input ('${graph.tensors[st.input]!.name}')`,
      buf.ring ? buf.ring.rows : st.inH,
      width,
    );
    return { plan: sp, stage: st, input, run: makeRun(graph, constants, plan, sp, st, input) };
  });
  // The source: rows of the input, one per call (or all of them, when the input is whole in the arena).
  const first = runs[0]!;
  const srcRow = (r: number) => input.subarray(r * first.input.width, (r + 1) * first.input.width);
  if (!step.externalInput) for (let r = 0; r < first.stage.inH; r++) first.input.write(r, srcRow(r));
  const sched = pullSchedule({
    stages: stages.map((s) => stageRows(graph, s)),
    bandRows: step.stages.map((s) => s.bandRows),
    ringExpanded: step.stages.map((s) => s.expanded === 'ring'),
    externalSource: step.externalInput,
  });
  for (const call of sched.calls) {
    if (call.stage < 0) {
      first.input.write(call.r0, srcRow(call.r0));
      continue;
    }
    const rows = runs[call.stage]!.run(call.r0, call.r1);
    const next = runs[call.stage + 1];
    const pooled = step.stages[call.stage]!.kind === 'conv_pool';
    rows.forEach((v, i) => {
      if (next) next.input.write(call.r0 + i, v);
      else outData.set(v, pooled ? 0 : (call.r0 + i) * v.length);
    });
  }
  return outData;
}

function makeRun(
  graph: Graph,
  constants: ConstantStore,
  plan: Plan,
  sp: StreamStagePlan,
  st: StreamStage,
  input: Ring,
): (r0: number, r1: number) => Int32Array[] {
  if (sp.kind === 'pointwise') {
    const op = graph.ops[sp.ops[0]!]!;
    if (op.kind === 'quantize') {
      const xq = activationQuant(graph.tensors[op.inputs[0]!]!, op);
      const yq = activationQuant(graph.tensors[op.outputs[0]!]!, op);
      return (r0, r1) => {
        const out: Int32Array[] = [];
        for (let r = r0; r < r1; r++) {
          const x = Int32Array.from(input.read(r));
          const src = xq.dtype === 'u8' ? Uint8Array.from(x) : Int8Array.from(x);
          const y =
            xq.dtype === yq.dtype
              ? q.refQConvert(src, xq.z, xq.s, yq.s, yq.z, yq.dtype)
              : q.refQRequantize(src, xq.z, xq.s, yq.s, yq.z, yq.dtype);
          out.push(Int32Array.from(y));
        }
        return out;
      };
    }
    const conv = op as Conv2DOp;
    const p = convParams(graph, constants, conv, st.outC);
    return (r0, r1) => {
      const out: Int32Array[] = [];
      for (let r = r0; r < r1; r++)
        out.push(convRow(conv, p, r, st.inW, st.inC, st.outW, st.outC, (iy) => input.read(iy)));
      return out;
    };
  }
  if (sp.kind === 'conv_pool') {
    const conv = graph.ops[sp.ops[0]!] as Conv2DOp;
    const pool = graph.ops[sp.ops[1]!]!;
    const p = convParams(graph, constants, conv, st.outC);
    const sums = new Float64Array(st.outC);
    const n = st.outH * st.outW;
    const xq = activationQuant(graph.tensors[pool.inputs[0]!]!, pool);
    const yq = activationQuant(graph.tensors[pool.outputs[0]!]!, pool);
    const [lo, hi] = q.dtypeRange(yq.dtype);
    return (r0, r1) => {
      for (let r = r0; r < r1; r++) {
        const y = convRow(conv, p, r, st.inW, st.inC, st.outW, st.outC, (iy) => input.read(iy));
        for (let i = 0; i < y.length; i++) sums[i % st.outC] += y[i]!;
      }
      if (r1 < st.outH) return [];
      // The pool's result, as TFLite's AVERAGE_POOL_2D (same grid) or MEAN (requantized).
      const out = new Int32Array(st.outC);
      for (let c = 0; c < st.outC; c++) {
        if (xq.s === yq.s && xq.z === yq.z) {
          const v = q.roundedAverage(sums[c]!, n);
          out[c] = v < lo ? lo : v > hi ? hi : v;
        } else out[c] = q.requantize(sums[c]! - n * xq.z, q.meanScale(xq.s, yq.s, n), yq.z, lo, hi);
      }
      // The stream's last call writes the pooled vector as "row 0".
      return [out];
    };
  }
  // An inverted residual block.
  const br: BlockRows = blockRows(graph, st.block!);
  const expand = graph.ops[sp.expand] as Conv2DOp;
  const dw = graph.ops[sp.depthwise] as DepthwiseConv2DOp;
  const project = graph.ops[sp.project] as Conv2DOp;
  const add: Op | undefined = sp.add >= 0 ? graph.ops[sp.add] : undefined;
  const pe = convParams(graph, constants, expand, br.Cexp);
  const pd = convParams(graph, constants, dw, br.Cexp);
  const pp = convParams(graph, constants, project, st.outC);
  const ring = sp.expanded === 'ring';
  const eRing = ring
    ? new Ring(`${st.name} expanded rows`, plan.buffers[sp.stateBuffer]!.bytes / (br.We * br.Cexp), br.We * br.Cexp)
    : undefined;
  let addQ:
    { ma: number; mb: number; shift: number; zP: number; zX: number; zY: number; lo: number; hi: number } | undefined;
  if (add) {
    const pq = activationQuant(graph.tensors[project.outputs[0]!]!, add);
    const xq = activationQuant(graph.tensors[sp.input]!, add);
    const yq = activationQuant(graph.tensors[add.outputs[0]!]!, add);
    const [lo, hi] = q.activationRange(add.kind === 'add' ? add.act : 'none', yq.s, yq.z, yq.dtype);
    const { ma, mb, shift } = q.addParams(pq.s, xq.s, yq.s);
    addQ = { ma, mb, shift, zP: pq.z, zX: xq.z, zY: yq.z, lo, hi };
  }
  return (r0, r1) => {
    // Expanded rows: this call's window, from a ring (only new rows computed) or made now.
    const made = new Map<number, Int32Array>();
    const computed = expandedRowsComputed(br, r0, r1, ring);
    for (let e = computed.lo; e <= computed.hi; e++) {
      const row = convRow(expand, pe, e, st.inW, st.inC, br.We, br.Cexp, (iy) =>
        iy < 0 || iy >= st.inH ? null : input.read(iy),
      );
      if (eRing) eRing.write(e, row);
      else made.set(e, row);
    }
    const window = expandedRowsOf(br, r0, r1);
    const eRow = (e: number): ArrayLike<number> | null => {
      if (e < 0 || e >= br.He) return null;
      if (e < window.lo || e > window.hi)
        throw new RingReadError(`${st.name}: expanded row ${e} is outside the window ${window.lo}..${window.hi}`);
      if (eRing) return eRing.read(e);
      const m = made.get(e);
      if (!m) throw new RingReadError(`${st.name}: expanded row ${e} was not computed`);
      return m;
    };
    const out: Int32Array[] = [];
    for (let r = r0; r < r1; r++) {
      const d = depthwiseRow(dw, pd, r, br.We, br.Cexp, st.outW, eRow);
      const p = convRow(project, pp, 0, st.outW, br.Cexp, st.outW, st.outC, (iy) => (iy === 0 ? d : null));
      if (addQ) {
        const x = input.read(r);
        const round = 2 ** (addQ.shift - 1);
        for (let i = 0; i < p.length; i++) {
          const acc = addQ.ma * (p[i]! - addQ.zP) + addQ.mb * (x[i]! - addQ.zX) + round;
          const v = Math.floor(acc / 2 ** addQ.shift) + addQ.zY;
          p[i] = v < addQ.lo ? addQ.lo : v > addQ.hi ? addQ.hi : v;
        }
      }
      out.push(p);
    }
    return out;
  };
}
