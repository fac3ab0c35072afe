/**
 * A Section 5.1 inverted residual block (expansion → 3x3 depthwise → linear
 * projection, + residual) as one fused kernel call that never materializes
 * the expanded or depthwise tensors.
 *
 * Both paths take their schedule from planner/block_schedule/. Float: f32_block_fused with
 * the float schedule (groups of expanded channels, a ring of expanded rows, a band of
 * depthwise rows), the weights packed per group. Integer: q8_block with a descriptor
 * listing the integer schedule's tiles, which fit the projection's int32 sums inside the
 * block's own buffers; one byte per weight, zero points folded into int32 biases.
 */
import type { Activation, Conv2DOp, DepthwiseConv2DOp, Graph, Op } from '../../../planner/ir.js';
import type { BlockStep } from '../../../planner/plan.js';
import {
  blockGeometry,
  chunkBuffers,
  FLOAT_ELEMENT_BYTES,
  floatSchedule,
  integerSchedule,
  integerScheduleRows,
  stepBuffers,
  type BlockGeometry,
  type ChunkBuffers,
  type IntegerSchedule,
} from '../../../planner/block_schedule/index.js';
import type { BlockTile } from '../../../planner/block_schedule/integer.js';
import { packFusedBlock, packFusedBlockLength } from '../../kernels/pack.js';
import {
  foldQ8Bias,
  foldQ8DepthwiseBias,
  packQ8Conv,
  packQ8ConvLength,
  packQ8Depthwise,
  packQ8Gemm,
  packQ8GemmLength,
  padQ8DepthwiseScales,
  padQ8Scales,
  q8DepthwisePairBytes,
  q8DepthwiseStride,
  q8OutputParams,
  Q8_NR,
  type QPacked,
} from '../../kernels/q8_pack.js';
import { encodeQ8BlockDesc } from '../../kernels/gen/abi.js';
import { activationRange, addParams, dtypeRange } from '../../reference/q8_ops.js';
import { activationQuant, weightQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError, type WeightsBlob } from '../weights_image.js';
import { splitRows } from '../../../planner/threads.js';
import {
  NOTHING,
  splitBinder,
  biasConst,
  clampOf,
  f32Const,
  intConst,
  ioQuant,
  is1x1,
  is3x3s2,
  kernelZeroPoint,
  nhwc,
  type BindContext,
  type Binder,
  type LowerContext,
} from './context.js';

interface BlockOps {
  expand: Conv2DOp;
  dw: DepthwiseConv2DOp;
  project: Conv2DOp;
  add?: Op;
  /** The block's output: the ADD's when there is a residual, else the projection's. */
  yId: number;
  /** The block input the residual adds (-1: none). */
  residualId: number;
}

export function blockOps(g: Graph, step: Pick<BlockStep, 'expand' | 'depthwise' | 'project' | 'add'>): BlockOps {
  const expand = g.ops[step.expand] as Conv2DOp;
  const dw = g.ops[step.depthwise] as DepthwiseConv2DOp;
  const project = g.ops[step.project] as Conv2DOp;
  const add = step.add >= 0 ? g.ops[step.add]! : undefined;
  if (
    expand.kind !== 'conv2d' ||
    dw.kind !== 'dwconv2d' ||
    project.kind !== 'conv2d' ||
    !is1x1(project) ||
    dw.kernel[0] !== 3 ||
    dw.kernel[1] !== 3 ||
    dw.depthMultiplier !== 1
  )
    throw new Error(`plan step is not an inverted residual block: '${expand.name}' → '${dw.name}' → '${project.name}'`);
  const yId = add ? add.outputs[0]! : project.outputs[0]!;
  const residualId = add ? (add.inputs.find((i) => i !== project.outputs[0]) ?? -1) : -1;
  return { expand, dw, project, ...(add ? { add } : {}), yId, residualId };
}

/**
 * Whether the float block's expansion is the 3x3 stride-2 stem conv (else 1x1); throws, naming
 * the op, for a block the fused kernel does not run (another expansion, or no ReLU6 after the
 * expansion and the depthwise).
 */
function fusedFloatStem(expand: Conv2DOp, dw: DepthwiseConv2DOp): boolean {
  const stem = !is1x1(expand);
  if (stem && !is3x3s2(expand))
    throw new UnsupportedOpError(
      expand,
      `a fused block's expansion must be 1x1 or the 3x3 stride-2 stem conv, got ${expand.kernel.join('x')} stride ${expand.stride.join(',')}`,
    );
  if (expand.act !== 'relu6' || dw.act !== 'relu6')
    throw new UnsupportedOpError(
      dw,
      `the fused block needs ReLU6 after the expansion and the depthwise, got ${expand.act} and ${dw.act}`,
    );
  return stem;
}

/**
 * Packs a block's float weights for the fused kernel in groups of `g` expanded channels
 * (packFusedBlock); returns their offset in the weights. Checks the block is one the
 * kernel runs: a 1x1 or 3x3/2 stem expansion, ReLU6 after the expansion and the depthwise.
 */
export function packFloatBlock(
  { model, graph: g, weights: W }: LowerContext,
  step: Pick<BlockStep, 'expand' | 'depthwise' | 'project' | 'add'>,
  groupChannels: number,
): number {
  const { expand, dw, project, yId } = blockOps(g, step);
  const stem = fusedFloatStem(expand, dw);
  const cIn = g.tensors[expand.inputs[0]!]!.shape[3]!;
  const cExp = g.tensors[expand.outputs[0]!]!.shape[3]!;
  const cOut = g.tensors[yId]!.shape[3]!;
  const bias = (op: Conv2DOp | DepthwiseConv2DOp) => (op.bias >= 0 ? f32Const(model, op.bias, op) : null);
  const kExp = stem ? 9 * cIn : cIn;
  return W.add(4 * packFusedBlockLength(kExp, cExp, cOut, groupChannels), () =>
    packFusedBlock(
      {
        expand: f32Const(model, expand.weights, expand),
        expandBias: bias(expand),
        depthwise: f32Const(model, dw.weights, dw),
        depthwiseBias: bias(dw),
        project: f32Const(model, project.weights, project),
        projectBias: bias(project),
      },
      cIn,
      cExp,
      cOut,
      stem,
      groupChannels,
    ),
  );
}

/** The float path: one f32_block_fused call. */
export function floatBlock({ model, graph: g, plan, weights: W, threads }: LowerContext, step: BlockStep): Binder {
  const { expand, dw, project, add, yId, residualId } = blockOps(g, step);
  const stem = fusedFloatStem(expand, dw);
  const xId = expand.inputs[0]!;
  const xs = nhwc(g.tensors[xId]!);
  const es = nhwc(g.tensors[expand.outputs[0]!]!);
  const ds = nhwc(g.tensors[dw.outputs[0]!]!);
  const cExp = es.c;
  const cOut = g.tensors[yId]!.shape[3]!;
  const [lo, hi] = clampOf(add ? (add as { act: Activation }).act : project.act);
  const geom = blockGeometry(g, step);
  const sched = floatSchedule(geom, chunkBuffers(geom, step.chunkChannels, FLOAT_ELEMENT_BYTES));
  for (const [what, index, used] of [
    ['expanded', step.expandBuffer, sched.expandBytesUsed],
    ['depthwise', step.depthwiseBuffer, sched.depthwiseBytesUsed],
  ] as const) {
    const b = plan.buffers[index];
    if (!b || b.bytes < used)
      throw new Error(
        `block '${expand.name}': the ${what}-chunk buffer #${index} has ${b?.bytes ?? 0} bytes; the fused kernel's schedule needs ${used}`,
      );
  }
  const wOff = packFloatBlock({ model, graph: g, plan, weights: W }, step, sched.groupChannels);
  const [sh, sw] = dw.stride;
  const [dh, dwl] = dw.dilation;
  const [ePadTop, ePadLeft] = stem ? [expand.pad.top, expand.pad.left] : [0, 0];
  const { groupChannels: gc, ringRows, bandRows } = sched;
  const args = (c: BindContext, e: number, d: number) => {
    const [x, y, w] = [c.tensor(xId), c.tensor(yId), c.weight(wOff)];
    const res = residualId >= 0 ? c.tensor(residualId) : 0;
    return {
      x,
      H: xs.h,
      W: xs.w,
      Cin: xs.c,
      stem: stem ? 1 : 0,
      He: es.h,
      We: es.w,
      ePadTop,
      ePadLeft,
      Cexp: cExp,
      sh,
      sw,
      dh,
      dw: dwl,
      dPadTop: dw.pad.top,
      dPadLeft: dw.pad.left,
      y,
      OH: ds.h,
      OW: ds.w,
      Cout: cOut,
      w,
      res,
      lo,
      hi,
      e,
      d,
      g: gc,
      ringRows,
      bandRows,
    };
  };
  // Threads: each computes its rows' whole chunk loop in its own scratch (the same sums in
  // the same order for every output element as one call over all rows).
  const parts = splitRows(ds.h, threads ?? 1);
  const xBytes = 4 * xs.h * xs.w * xs.c;
  const yBytes = 4 * ds.h * ds.w * cOut;
  return splitBinder(
    (c) => c.b.f32_block_fused(args(c, c.buffer(step.expandBuffer), c.buffer(step.depthwiseBuffer))),
    parts.length > 1
      ? (c, piece, thread) => {
          const [r0, r1] = parts[piece]!;
          if (r1 <= r0) return NOTHING;
          const { e, d } =
            thread === 0
              ? { e: c.buffer(step.expandBuffer), d: c.buffer(step.depthwiseBuffer) }
              : c.threadScratch!(thread, plan.buffers[step.expandBuffer]!.bytes);
          return c.b.f32_block_fused({ ...args(c, e, d), r0, r1, xRows: 0, xBytes, yRows: 0, yBytes, persist: 0 });
        }
      : undefined,
  );
}

/** What lowering decided for one fused block (tests and reports read it). */
export interface Q8BlockLowering {
  step: number;
  name: string;
  geometry: BlockGeometry;
  /** The block's chunk buffers, with the preferred limits below the float high-water. */
  buffers: ChunkBuffers;
  tiling: IntegerSchedule;
  /** With threads > 1: each thread's schedule of its output rows (thread 0 in the plan's buffers, the others in their own). */
  parts?: IntegerSchedule[];
}

const roundUp8 = (n: number) => Math.ceil(n / Q8_NR) * Q8_NR;

/** Blobs laid end to end (per-channel units of the unit-1 tiling). */
function concat<T extends WeightsBlob>(parts: T[]): T {
  const out = new (parts[0]!.constructor as new (n: number) => T)(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as unknown as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}

/**
 * The integer path: one q8_block call. `highWater`: the arena offset the block's
 * tiles try to stay under (the float schedule's high-water), so the integer path
 * touches a quarter of the float path's memory when it can.
 */
export function integerBlock(
  cx: LowerContext,
  step: BlockStep,
  stepIndex: number,
  blocks: Q8BlockLowering[],
  highWater: number,
): Binder {
  const { graph: g, plan, weights: W } = cx;
  const { expand, project, yId } = blockOps(g, step);
  const x = nhwc(g.tensors[expand.inputs[0]!]!);
  const y = nhwc(g.tensors[yId]!);

  const geometry = blockGeometry(g, step);
  const buffers = stepBuffers(plan, step, highWater);
  const tiling = integerSchedule(geometry, buffers);
  // Threads: each piece of rows gets a tiling of its own in the weights' unit, its
  // accumulators kept inside the chunk buffers and its own output rows, within the plan's
  // buffers (their preferred limits first); any thread runs it, in its scratch (the plan's
  // buffers for thread 0, a region at least as big for the others).
  const rowParts = splitRows(y.h, cx.threads ?? 1);
  const parts =
    rowParts.length > 1
      ? rowParts.map(([r0, r1]) => (r1 > r0 ? integerScheduleRows(geometry, buffers, r0, r1, tiling.unit) : null))
      : [];
  // A part with no tiling in the weights' unit: the block runs whole on thread 0.
  const split = parts.length > 1 && parts.every((p) => p !== undefined);
  blocks.push({
    step: stepIndex,
    name: `${expand.name}..${project.name}`,
    geometry,
    buffers,
    tiling,
    ...(split ? { parts: parts.filter((p): p is IntegerSchedule => !!p) } : {}),
  });
  const { pDesc, descBytes, partDescs } = packIntegerBlock(
    cx,
    step,
    tiling.unit,
    tiling.tiles,
    tiling.rolling === true,
    split ? parts.map((p) => p?.tiles ?? null) : [],
  );
  const xBytes = x.h * x.w * x.c;
  const yBytes = y.h * y.w * y.c;
  const [eBytes, dBytes] = [buffers.expandBytes, buffers.depthwiseBytes];
  const xId = expand.inputs[0]!;
  const call = (c: BindContext, desc: { pDesc: number; descBytes: number }, ea: number, dd: number) => {
    const [wb, da] = [c.weight(0), c.weight(desc.pDesc)];
    const [xa, ya] = [c.tensor(xId), c.tensor(yId)];
    const wBytes = W.bytes;
    const descBytes = desc.descBytes;
    return c.b.q8_block({
      desc: da,
      descBytes,
      wb,
      wBytes,
      x: xa,
      xBytes,
      y: ya,
      yBytes,
      e: ea,
      eBytes,
      d: dd,
      dBytes,
    });
  };
  return splitBinder(
    (c) => call(c, { pDesc, descBytes }, c.buffer(step.expandBuffer), c.buffer(step.depthwiseBuffer)),
    split
      ? (c, piece, thread) => {
          const desc = partDescs[piece];
          if (!desc) return NOTHING;
          const { e, d } =
            thread === 0
              ? { e: c.buffer(step.expandBuffer), d: c.buffer(step.depthwiseBuffer) }
              : c.threadScratch!(thread, plan.buffers[step.expandBuffer]!.bytes);
          return call(c, desc, e, d);
        }
      : undefined,
  );
}

/**
 * Packs a block's weights for q8_block (unit u: 8-channel panels, or one per inner channel)
 * and its descriptor with these tiles; `persist`: the row-streamed block keeps its expanded
 * rows across calls. Returns the descriptor's offset in the weights and its size.
 */
export function packIntegerBlock(
  { model, graph: g, weights: W }: LowerContext,
  step: Pick<BlockStep, 'expand' | 'depthwise' | 'project' | 'add'>,
  u: 1 | 8,
  tiles: readonly BlockTile[],
  persist: boolean,
  partTiles: readonly (readonly BlockTile[] | null)[] = [],
): { pDesc: number; descBytes: number; partDescs: ({ pDesc: number; descBytes: number } | null)[] } {
  const { expand, dw, project, add, yId } = blockOps(g, step);
  const eq = ioQuant(g, expand);
  const dq = ioQuant(g, dw);
  const pq = ioQuant(g, project);
  const sg = eq.sg;
  const xT = g.tensors[expand.inputs[0]!]!;
  const x = nhwc(xT);
  const e = nhwc(g.tensors[expand.outputs[0]!]!);
  const d = nhwc(g.tensors[dw.outputs[0]!]!);
  const y = nhwc(g.tensors[yId]!);
  const Cexp = e.c;
  const conv = !is1x1(expand);
  const [ekh, ekw] = expand.kernel;

  // Expansion: 8-channel panels (unit 8), or one padded panel per channel (unit 1).
  const wE = () => intConst(model, expand.weights, expand);
  const qE = weightQuant(g, expand, Cexp);
  const [loE, hiE] = activationRange(expand.act, eq.y.s, eq.y.z, eq.y.dtype);
  const KE = ekh * ekw * x.c;
  const dil = expand.dilation[1];
  const packE = (w: Uint8Array | Int8Array, n0: number, nc: number, into?: Uint8Array): QPacked =>
    conv
      ? packQ8Conv(w, Cexp, ekh, ekw, x.c, qE.zw, n0, nc, dil, into)
      : packQ8Gemm(w, Cexp, x.c, qE.zw, n0, nc, 0, x.c, into);
  const packedE = (nc: number) => (conv ? packQ8ConvLength(nc, ekh, ekw, x.c, dil) : packQ8GemmLength(nc, x.c));
  const biasE = () => biasConst(model, expand.bias, expand);
  const channels = Array.from({ length: Cexp }, (_, j) => j);
  let wExp: number, bExp: number, sExp: number, uExp: number;
  if (u === 8) {
    uExp = packedE(Cexp) / Math.ceil(Cexp / Q8_NR);
    wExp = W.add(packedE(Cexp), (into) => packE(wE(), 0, Cexp, into));
    bExp = W.add(4 * roundUp8(Cexp), () => foldQ8Bias(biasE(), wE(), Cexp, KE, qE.zw, eq.x.z));
    sExp = W.put(padQ8Scales(qE.scale, Cexp));
  } else {
    uExp = packedE(1);
    wExp = W.add(Cexp * uExp, () => {
      const w = wE();
      return concat(channels.map((j) => packE(w, j, 1)));
    });
    bExp = W.add(Cexp * 4 * Q8_NR, () => {
      const [b, w] = [biasE(), wE()];
      return concat(channels.map((j) => foldQ8Bias(b, w, Cexp, KE, qE.zw, eq.x.z, j, 1)));
    });
    sExp = W.put(concat(channels.map((j) => padQ8Scales(qE.scale, Cexp, j, 1))));
  }
  const rqExp = W.put(q8OutputParams(eq.y.z, loE, hiE, undefined, kernelZeroPoint(g.tensors[expand.weights]!)));

  // Depthwise: tap-major rows over all inner channels (any group is an offset).
  const wD = () => intConst(model, dw.weights, dw);
  const qD = weightQuant(g, dw, Cexp);
  const [loD, hiD] = activationRange(dw.act, dq.y.s, dq.y.z, dq.y.dtype);
  const wDw = W.add(5 * q8DepthwisePairBytes(Cexp), (into) => packQ8Depthwise(wD(), Cexp, qD.zw, 0, Cexp, into));
  const bDw = W.add(4 * q8DepthwiseStride(Cexp), () =>
    foldQ8DepthwiseBias(biasConst(model, dw.bias, dw), wD(), Cexp, qD.zw, dq.x.z),
  );
  const sDw = W.put(padQ8DepthwiseScales(qD.scale, Cexp));
  const rqDw = W.put(q8OutputParams(dq.y.z, loD, hiD, undefined, kernelZeroPoint(g.tensors[dw.weights]!)));

  // Projection: one matrix over all inner channels (unit 8: k-pair slices of it), or one
  // K = 1 matrix per inner channel (unit 1).
  const wP = () => intConst(model, project.weights, project);
  const qP = weightQuant(g, project, y.c);
  let wProj: number, psProj: number, uProj: number;
  if (u === 8) {
    wProj = W.add(packQ8GemmLength(y.c, Cexp), (into) => packQ8Gemm(wP(), y.c, Cexp, qP.zw, 0, y.c, 0, Cexp, into));
    psProj = packQ8GemmLength(Q8_NR, Cexp);
    uProj = packQ8GemmLength(Q8_NR, Q8_NR);
  } else {
    uProj = packQ8GemmLength(y.c, 1);
    psProj = packQ8GemmLength(Q8_NR, 1);
    wProj = W.add(Cexp * uProj, () => {
      const w = wP();
      return concat(channels.map((j) => packQ8Gemm(w, y.c, Cexp, qP.zw, 0, y.c, j, 1)));
    });
  }
  const bProj = W.add(4 * roundUp8(y.c), () =>
    foldQ8Bias(biasConst(model, project.bias, project), wP(), y.c, Cexp, qP.zw, pq.x.z),
  );
  const sProj = W.put(padQ8Scales(qP.scale, y.c));
  const [pMin, pMax] = dtypeRange(pq.y.dtype);
  let residual;
  if (add) {
    const yq = activationQuant(g.tensors[yId]!, add);
    const xq = activationQuant(xT, add);
    const { ma, mb, shift } = addParams(pq.y.s, xq.s, yq.s);
    const [loY, hiY] = activationRange(add.kind === 'add' ? add.act : 'none', yq.s, yq.z, yq.dtype);
    residual = { zRes: xq.z, mP: ma, mRes: mb, shift, zY: yq.z, loY, hiY };
  }
  const rqProj = W.put(q8OutputParams(pq.y.z, pMin, pMax, residual, kernelZeroPoint(g.tensors[project.weights]!)));

  // Weight offsets are relative to the weights base; the kernel adds it.
  const fields = {
    signed: sg,
    expKind: conv ? 1 : 0,
    hx: x.h,
    wx: x.w,
    cin: x.c,
    he: e.h,
    we: e.w,
    cexp: Cexp,
    hd: d.h,
    wd: d.w,
    cout: y.c,
    ekh,
    ekw,
    esh: expand.stride[0],
    esw: expand.stride[1],
    edh: expand.dilation[0],
    edw: expand.dilation[1],
    ept: expand.pad.top,
    epl: expand.pad.left,
    dsh: dw.stride[0],
    dsw: dw.stride[1],
    ddh: dw.dilation[0],
    ddw: dw.dilation[1],
    dpt: dw.pad.top,
    dpl: dw.pad.left,
    zx: eq.x.z,
    ze: dq.x.z,
    wExp,
    bExp,
    sExp,
    rqExp,
    wDw,
    wsDw: q8DepthwisePairBytes(Cexp),
    bDw,
    sDw,
    rqDw,
    wProj,
    psProj,
    bProj,
    sProj,
    rqProj,
    unit: u,
    uExp,
    uProj,
  };
  const put = (t: readonly BlockTile[], keep: boolean) => {
    const desc = encodeQ8BlockDesc({ ...fields, persist: keep ? 1 : 0, tiles: t });
    return { pDesc: W.put(desc), descBytes: desc.byteLength };
  };
  // One descriptor per thread's tiles (same weights, same unit; halo tilings, no rolling window).
  return { ...put(tiles, persist), partDescs: partTiles.map((t) => (t ? put(t, false) : null)) };
}
