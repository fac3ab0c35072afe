/**
 * The verifier's check of a streamed step (called by planner/verify.ts). From the
 * graph, the step and its buffers alone it checks that:
 * - the stages are a chain of real blocks / 1x1 convs / QUANTIZE / conv + global pool /
 *   row head, each reading the previous one's output, from the graph input (external)
 *   or a whole tensor, with valid band, group, chunk and tile figures; a row head is the
 *   one stages.ts rowHead finds, its tensors in the areas headLayout gives them, and the
 *   step makes as many passes as it needs (two when it pools);
 * - every stage input is read from a ring of that tensor (or the whole tensor), and
 *   each state buffer and the work buffer is at least as large as the stage's windows,
 *   recomputed here from the ops' strides, dilations and paddings;
 * - the rings are large enough: it replays the pull schedule with a tag per ring
 *   slot (the row it holds; mirror slots tagged with their copy), and every row any
 *   call reads must still be in its slot, never one the producer has written over;
 *   the stem's 3x3 taps must find their rows contiguous (through the mirror slots);
 * - each stage's calls are consecutive bands of its band height covering its output, in
 *   every pass (a second pass writes the rings again from row 0).
 * The step's ops and the tensors it never materializes are returned for the graph-wide checks.
 */
import { detectBlocks, type InvertedResidualBlock } from '../blocks.js';
import { DTYPE_BYTES, type Conv2DOp, type DepthwiseConv2DOp, type Graph } from '../ir.js';
import type { Plan, StreamStep } from '../plan.js';
import { pullSchedule } from './schedule.js';
import { rowHead, stageRows, type StreamStage } from './stages.js';
import { headLayout } from './config.js';

export interface StreamCheck {
  ops: number[];
  internal: number[];
  /** Buffers (by index) that are this step's scratch: the work buffer and the state buffers, with what they are. */
  scratch: Map<number, string>;
  /** Ring buffers (by index) and the tensor each holds rows of. */
  rings: Map<number, number>;
}

const shape = (g: Graph, id: number) => {
  const s = g.tensors[id]!.shape;
  return s.length === 4 ? { h: s[1]!, w: s[2]!, c: s[3]! } : { h: 1, w: 1, c: s[s.length - 1]! };
};

export function verifyStreamStep(
  graph: Graph,
  plan: Plan,
  step: StreamStep,
  index: number,
  fail: (message: string) => never,
): StreamCheck {
  const blocks = new Map<number, InvertedResidualBlock>();
  for (const b of detectBlocks(graph)) blocks.set(b.expand, b);
  const where = (k: number) => `stream step ${index}, stage ${k} ('${step.stages[k]?.name}')`;
  if (step.stages.length === 0) fail(`stream step ${index} has no stages`);
  const ops: number[] = [];
  const internal: number[] = [];
  const scratch = new Map<number, string>();
  const rings = new Map<number, number>();
  const buffer = (i: number, what: string) => {
    const b = plan.buffers[i];
    if (!b) fail(`${what}: buffer ${i} does not exist`);
    if (b.firstStep !== index || b.lastStep !== index) {
      if (!(b.tensor >= 0 && !b.ring))
        fail(`${what}: buffer '${b.name}' lives at steps ${b.firstStep}..${b.lastStep}, not only at step ${index}`);
    }
    return b;
  };

  // The stages as the planner's geometry sees them, rebuilt from the ops (checked against the graph).
  const rebuilt: StreamStage[] = step.stages.map((s, k) => {
    if (k > 0 && s.input !== step.stages[k - 1]!.output)
      fail(`${where(k)} reads '${graph.tensors[s.input]?.name}', not the previous stage's output`);
    const i = shape(graph, s.input);
    const eb = DTYPE_BYTES[graph.tensors[s.input]!.dtype];
    const base = {
      kind: s.kind,
      name: s.name,
      ops: s.ops,
      input: s.input,
      output: s.output,
      inH: i.h,
      inW: i.w,
      inC: i.c,
      elementBytes: eb,
    };
    if (s.kind === 'block') {
      const b = blocks.get(s.expand);
      if (
        !b ||
        b.depthwise !== s.depthwise ||
        b.project !== s.project ||
        b.add !== s.add ||
        b.input !== s.input ||
        b.output !== s.output
      )
        fail(`${where(k)} is not an inverted residual block of the graph reading its input`);
      const want = [b.expand, b.depthwise, b.project, b.add].filter((o) => o >= 0);
      if (want.join() !== s.ops.join())
        fail(`${where(k)} lists ops ${s.ops.join(',')}, the block has ${want.join(',')}`);
      const o = shape(graph, s.output);
      return { ...base, outH: o.h, outW: o.w, outC: o.c, block: b };
    }
    if (s.kind === 'pointwise') {
      const op = graph.ops[s.ops[0]!];
      if (s.ops.length !== 1 || !op || op.inputs[0] !== s.input || op.outputs[0] !== s.output)
        fail(`${where(k)} is not one op from its input to its output`);
      const ok =
        op.kind === 'quantize' ||
        (op.kind === 'conv2d' &&
          op.kernel.join() === '1,1' &&
          op.stride.join() === '1,1' &&
          op.pad.top + op.pad.bottom + op.pad.left + op.pad.right === 0);
      if (!ok) fail(`${where(k)}: '${op.name}' (${op.kind}) is not a 1x1 conv or a QUANTIZE`);
      const o = shape(graph, s.output);
      return { ...base, outH: o.h, outW: o.w, outC: o.c, ...(op.kind === 'quantize' ? { elementwise: true } : {}) };
    }
    if (s.kind === 'row_head') {
      const head = rowHead(graph, s.input);
      if (!head || head.output !== s.output || head.ops.join() !== s.ops.join())
        fail(`${where(k)} is not the row head of '${graph.tensors[s.input]!.name}' (stages.ts rowHead)`);
      if (k !== step.stages.length - 1) fail(`${where(k)}: a row head must end the stream`);
      const o = shape(graph, s.output);
      return { ...base, outH: o.h, outW: o.w, outC: o.c, head };
    }
    const conv = graph.ops[s.ops[0]!];
    const pool = graph.ops[s.ops[1]!];
    if (
      s.ops.length !== 2 ||
      !conv ||
      !pool ||
      conv.kind !== 'conv2d' ||
      conv.kernel.join() !== '1,1' ||
      conv.stride.join() !== '1,1' ||
      pool.kind !== 'global_avgpool' ||
      conv.inputs[0] !== s.input ||
      pool.inputs[0] !== conv.outputs[0] ||
      pool.outputs[0] !== s.output
    )
      fail(`${where(k)} is not a 1x1 conv read only by a global average pool`);
    if (k !== step.stages.length - 1) fail(`${where(k)}: the head (conv + pool) must end the stream`);
    const o = shape(graph, conv.outputs[0]!);
    return { ...base, outH: o.h, outW: o.w, outC: o.c };
  });
  const passes = rebuilt[rebuilt.length - 1]!.head?.passes ?? 1;
  if (step.passes !== passes) fail(`stream step ${index} makes ${step.passes} pass(es); its stages need ${passes}`);
  const first = step.stages[0]!;
  if (step.externalInput && !graph.inputs.includes(first.input))
    fail(
      `stream step ${index} reads '${graph.tensors[first.input]!.name}' from outside the arena; only a graph input can come from the caller`,
    );

  rebuilt.forEach((st, k) => {
    const s = step.stages[k]!;
    ops.push(...s.ops);
    if (st.block) internal.push(...st.block.internal);
    if (s.kind === 'conv_pool') internal.push(graph.ops[s.ops[0]!]!.outputs[0]!);
    if (st.head) internal.push(...st.head.tensors.map((t) => t.id));
    if (k < step.stages.length - 1) internal.push(s.output);
    if (k === 0 && step.externalInput) internal.push(s.input);
    // Figures.
    if (!(Number.isInteger(s.bandRows) && s.bandRows >= 1)) fail(`${where(k)}: band of ${s.bandRows} rows`);
    if (!(Number.isInteger(s.tileCols) && s.tileCols >= 1 && s.tileCols <= st.outW))
      fail(`${where(k)}: tiles of ${s.tileCols} columns for ${st.outW}`);
    const b = st.block;
    if (b) {
      const C = b.expandedChannels;
      if (!(Number.isInteger(s.groupChannels) && s.groupChannels >= 1 && s.groupChannels <= C))
        fail(`${where(k)}: groups of ${s.groupChannels} channels (1..${C})`);
      if (s.chunks !== Math.ceil(C / s.groupChannels))
        fail(`${where(k)} says ${s.chunks} chunks of ${s.groupChannels} for ${C} channels`);
      if (s.expanded === 'ring' && s.groupChannels !== C)
        fail(`${where(k)} keeps a ring of expanded rows but groups ${s.groupChannels} of ${C} channels`);
    }
  });

  // Input buffers: a ring of the input tensor, or (first stage, not external) the whole tensor.
  const ringOf: { rows: number; mirror: number }[] = [];
  step.stages.forEach((s, k) => {
    const b = buffer(s.inputBuffer, `${where(k)} input`);
    if (k === 0 && !step.externalInput) {
      if (b.ring || b.tensor !== s.input)
        fail(`${where(k)} must read its input '${graph.tensors[s.input]!.name}' whole from its own buffer`);
      ringOf.push({ rows: rebuilt[0]!.inH, mirror: 0 });
      return;
    }
    if (!b.ring || b.tensor !== s.input)
      fail(`${where(k)}: buffer '${b.name}' is not a ring of '${graph.tensors[s.input]!.name}'`);
    const st = rebuilt[k]!;
    const rowBytes = st.inW * st.inC * st.elementBytes;
    if (b.ring.rowBytes !== rowBytes)
      fail(
        `ring '${b.name}' has rows of ${b.ring.rowBytes} bytes; '${graph.tensors[s.input]!.name}' rows are ${rowBytes}`,
      );
    if (
      !(Number.isInteger(b.ring.rows) && b.ring.rows >= 1) ||
      b.bytes !== (b.ring.rows + b.ring.mirrorRows) * rowBytes
    )
      fail(
        `ring '${b.name}': ${b.bytes} bytes for ${b.ring.rows} rows + ${b.ring.mirrorRows} mirror rows of ${rowBytes}`,
      );
    if (rings.has(s.inputBuffer)) fail(`ring '${b.name}' serves two stages`);
    rings.set(s.inputBuffer, s.input);
    ringOf.push({ rows: b.ring.rows, mirror: b.ring.mirrorRows });
  });

  // State and work buffers, sized from the ops' geometry.
  const work = buffer(step.workBuffer, `stream step ${index} work`);
  if (work.tensor !== -1 || work.ring) fail(`stream step ${index}: work buffer '${work.name}' holds a tensor`);
  scratch.set(step.workBuffer, `stream step ${index} work`);
  step.stages.forEach((s, k) => {
    const st = rebuilt[k]!;
    const eb = st.elementBytes;
    const inside = (a: { offset: number; bytes: number }, what: string) => {
      if (!(a.offset >= 0 && a.bytes >= 0 && a.offset + a.bytes <= work.bytes))
        fail(
          `${where(k)}: ${what} area [${a.offset}, ${a.offset + a.bytes}) is outside the work buffer (${work.bytes} bytes)`,
        );
    };
    inside(s.expandWork, 'expanded');
    inside(s.depthwiseWork, 'depthwise');
    if (s.expandWork.bytes > 0 && s.depthwiseWork.bytes > 0) {
      const [a, c] = [s.expandWork, s.depthwiseWork];
      if (a.offset < c.offset + c.bytes && c.offset < a.offset + a.bytes)
        fail(`${where(k)}: expanded and depthwise work areas overlap`);
    }
    let state = 0;
    if (st.head) {
      // The head's areas as headLayout places them: in the state buffer and the expanded work area.
      const l = headLayout(st);
      const same = (a: { tensor: number; kind: string; offset: number; bytes: number }[], b: typeof a) =>
        a.length === b.length &&
        a.every((x, i) => {
          const y = b[i]!;
          return x.tensor === y.tensor && x.kind === y.kind && x.offset === y.offset && x.bytes === y.bytes;
        });
      if (!s.head || s.head.pool !== st.head.pool || !same(s.head.state, l.state) || !same(s.head.work, l.work))
        fail(`${where(k)}: the row head's areas are not the ones its tensors need (stream/config.ts headLayout)`);
      state = l.stateBytes;
      if (s.expandWork.bytes < l.workBytes)
        fail(`${where(k)}: the head's rows need ${l.workBytes} bytes of work area, it has ${s.expandWork.bytes}`);
    } else if (s.head) fail(`${where(k)} has row head areas but is not a row head`);
    if (s.kind === 'conv_pool') {
      state = st.outC * 4;
      if (s.expandWork.bytes < s.tileCols * st.outC * eb)
        fail(`${where(k)}: the head's tile of ${s.tileCols} pixels needs ${s.tileCols * st.outC * eb} bytes`);
    } else if (st.block) {
      const b = st.block;
      const dw = graph.ops[b.depthwise] as DepthwiseConv2DOp;
      const [He, We] = b.expandedSize;
      const win = (n: number, stride: number, dil: number, size: number) =>
        Math.min(size, (n - 1) * stride + 2 * dil + 1);
      const eRows = win(s.bandRows, dw.stride[0], dw.dilation[0], He);
      const float = eb === 4;
      const cols = float ? st.outW : s.tileCols;
      if (s.expanded === 'ring') {
        state = eRows * We * b.expandedChannels * eb;
        if (s.depthwiseWork.bytes < s.bandRows * cols * b.expandedChannels * eb)
          fail(`${where(k)}: depthwise tile does not fit its work area`);
      } else {
        const eCols = float ? We : win(cols, dw.stride[1], dw.dilation[1], We);
        const e = eRows * eCols * s.groupChannels * eb;
        const acc = !float && s.groupChannels < b.expandedChannels ? s.bandRows * cols * st.outC * 4 : 0;
        if (acc && !(s.accOffset >= e && s.accOffset + acc <= s.expandWork.bytes))
          fail(
            `${where(k)}: partial sums [${s.accOffset}, ${s.accOffset + acc}) do not fit after the expanded window (${e} bytes) in ${s.expandWork.bytes}`,
          );
        if (!acc && s.expandWork.bytes < e)
          fail(`${where(k)}: expanded window of ${e} bytes does not fit ${s.expandWork.bytes}`);
        if (s.depthwiseWork.bytes < s.bandRows * cols * s.groupChannels * eb)
          fail(`${where(k)}: depthwise tile does not fit its work area`);
      }
    }
    if (state > 0) {
      const b = buffer(s.stateBuffer, `${where(k)} state`);
      if (b.tensor !== -1 || b.bytes !== state)
        fail(`${where(k)}: state buffer '${b.name}' has ${b.bytes} bytes; it needs ${state}`);
      scratch.set(s.stateBuffer, `${where(k)} state`);
    } else if (s.stateBuffer !== -1) fail(`${where(k)} has a state buffer it does not use`);
  });

  // Replay the schedule with a row tag in every ring slot.
  const rows = rebuilt.map((s) => stageRows(graph, s));
  const sched = pullSchedule({
    stages: rows,
    bandRows: step.stages.map((s) => s.bandRows),
    ringExpanded: step.stages.map((s) => s.expanded === 'ring'),
    externalSource: step.externalInput,
  });
  const tags = ringOf.map((r) => new Int32Array(r.rows + r.mirror).fill(-1));
  if (!step.externalInput) for (let r = 0; r < rebuilt[0]!.inH; r++) tags[0]![r] = r;
  const next = step.stages.map(() => 0);
  const write = (k: number, r0: number, r1: number) => {
    // Rows of stage k's output go to ring k + 1 (the last stage writes its whole output tensor).
    if (k + 1 >= tags.length) return;
    const t = tags[k + 1]!;
    const { rows: N, mirror } = ringOf[k + 1]!;
    for (let r = r0; r < r1; r++) {
      t[r % N] = r;
      if (r % N < mirror) t[N + (r % N)] = r;
    }
  };
  const present = (k: number, r: number, what: string) => {
    const N = ringOf[k]!.rows;
    if (tags[k]![r % N] !== r)
      fail(
        `${what} reads row ${r} of '${graph.tensors[step.stages[k]!.input]!.name}', but its ring of ${N} rows holds row ${tags[k]![r % N]} in that slot`,
      );
  };
  const calls = passes === 2 ? [...sched.calls, ...sched.calls] : sched.calls;
  let done = 0;
  for (const call of calls) {
    if (done++ === sched.calls.length) {
      // The second pass: every stage starts again at row 0.
      step.stages.forEach((s, k) => {
        if (next[k] !== rebuilt[k]!.outH) fail(`${where(k)} makes rows up to ${next[k]} of ${rebuilt[k]!.outH}`);
        next[k] = 0;
      });
    }
    if (call.stage < 0) {
      write(-1, call.r0, call.r1);
      continue;
    }
    const k = call.stage;
    const s = step.stages[k]!;
    const st = rebuilt[k]!;
    const what = `${where(k)}, rows ${call.r0}..${call.r1 - 1}`;
    if (call.r0 !== next[k] || call.r1 !== Math.min(st.outH, call.r0 + s.bandRows))
      fail(`${what}: not the next band of ${s.bandRows} rows`);
    next[k] = call.r1;
    for (const r of readRows(graph, st, s.expanded === 'ring', call.r0, call.r1)) present(k, r, what);
    if (st.block && st.block.stem) {
      // Each expanded row's taps must be contiguous: rows a..a+span in slots s..s+span (through the mirror).
      const e = graph.ops[st.block.expand] as Conv2DOp;
      const { rows: N, mirror } = ringOf[k]!;
      for (const [a, span] of stemTapRuns(graph, st, s.expanded === 'ring', call.r0, call.r1)) {
        if ((a % N) + span > N + mirror)
          fail(
            `${what}: the stem's taps of rows ${a}..${a + span - 1} wrap around a ring of ${N} rows with ${mirror} mirror rows`,
          );
        for (let j = 0; j < span; j++) {
          const slot = (a % N) + j;
          if (tags[k]![slot] !== a + j) fail(`${what}: the stem's tap row ${a + j} is not in slot ${slot} (${e.name})`);
        }
      }
    }
    write(k, call.r0, call.r1);
  }
  step.stages.forEach((s, k) => {
    if (next[k] !== rebuilt[k]!.outH) fail(`${where(k)} makes rows up to ${next[k]} of ${rebuilt[k]!.outH}`);
  });
  return { ops, internal, scratch, rings };
}

/** Rows of the expanded tensor [lo, hi] that the depthwise rows [r0, r1) read, clipped. */
function expandedWindow(b: InvertedResidualBlock, dw: DepthwiseConv2DOp, r0: number, r1: number): [number, number] {
  const He = b.expandedSize[0];
  return [
    Math.max(0, r0 * dw.stride[0] - dw.pad.top),
    Math.min(He - 1, (r1 - 1) * dw.stride[0] - dw.pad.top + 2 * dw.dilation[0]),
  ];
}

/** Expanded rows a call computes: its whole window, or with a ring only the rows earlier calls did not make. */
function computedExpanded(graph: Graph, st: StreamStage, ring: boolean, r0: number, r1: number): [number, number] {
  const b = st.block!;
  const dw = graph.ops[b.depthwise] as DepthwiseConv2DOp;
  const [lo, hi] = expandedWindow(b, dw, r0, r1);
  if (!ring || r0 === 0) return [lo, hi];
  return [Math.max(lo, expandedWindow(b, dw, 0, r0)[1] + 1), hi];
}

/** Every input row a call of stage `st` reads. */
function readRows(graph: Graph, st: StreamStage, ring: boolean, r0: number, r1: number): number[] {
  const out = new Set<number>();
  if (!st.block) {
    for (let r = r0; r < r1; r++) out.add(r);
    return [...out];
  }
  const b = st.block;
  const e = graph.ops[b.expand] as Conv2DOp;
  const [e0, e1] = computedExpanded(graph, st, ring, r0, r1);
  for (let er = e0; er <= e1; er++)
    for (let ky = 0; ky < e.kernel[0]; ky++) {
      const r = er * e.stride[0] - e.pad.top + ky * e.dilation[0];
      if (r >= 0 && r < st.inH) out.add(r);
    }
  if (b.add >= 0) for (let r = r0; r < r1; r++) out.add(r);
  return [...out].sort((a, c) => a - c);
}

/** For the stem: each expanded row's first tap row inside the image and how many rows its taps span. */
function stemTapRuns(graph: Graph, st: StreamStage, ring: boolean, r0: number, r1: number): [number, number][] {
  const b = st.block!;
  const e = graph.ops[b.expand] as Conv2DOp;
  const [e0, e1] = computedExpanded(graph, st, ring, r0, r1);
  const out: [number, number][] = [];
  for (let er = e0; er <= e1; er++) {
    const a = Math.max(0, er * e.stride[0] - e.pad.top);
    const z = Math.min(st.inH - 1, er * e.stride[0] - e.pad.top + (e.kernel[0] - 1) * e.dilation[0]);
    out.push([a, z - a + 1]);
  }
  return out;
}
