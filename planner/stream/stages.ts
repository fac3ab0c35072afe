/**
 * Stages of row-streamed execution: the ops a streamed unit runs row by row,
 * and which rows of its input each output row needs (its receptive field).
 *
 * A stage reads the rows of one tensor and writes the rows of the next:
 * - 'block': an inverted residual block (Section 5.1: expansion, 3x3 depthwise,
 *   projection, residual add) whose expansion is a 1x1 conv or the network's
 *   3x3 stride-2 stem conv;
 * - 'pointwise': an op whose output row r reads input row r only (a 1x1 conv, or
 *   a QUANTIZE of the network input);
 * - 'conv_pool': the classifier head, a 1x1 conv whose only reader is the global
 *   average pool: the pool sums each conv row as it is made, so the conv's
 *   output (7×7×1280 in MobileNetV2) never exists; it ends a stream;
 * - 'row_head': a segmentation head whose ops are all row-local (rowHead below): a
 *   1x1 conv / QUANTIZE / channel concatenation of one row makes one output row. With
 *   a global mean of its input among them (DeepLabv3's ASPP image pooling) the stream
 *   runs twice: the first pass only sums the input's rows, the mean and what depends
 *   on it alone (a vector, broadcast back over the rows) are made between the passes,
 *   and the second pass makes the head's output rows. It ends a stream, whose output
 *   (the logits) is then whole in the arena.
 *
 * Streams start at the network input (its rows come from the caller's image)
 * and follow the chain of ops while each tensor has one reader. streamChain
 * returns that chain; a streamed unit runs a prefix of it.
 */
import { detectBlocks, type InvertedResidualBlock } from '../blocks.js';
import { DTYPE_BYTES, type Conv2DOp, type DepthwiseConv2DOp, type Graph, type Op } from '../ir.js';

export type StageKind = 'block' | 'pointwise' | 'conv_pool' | 'row_head';

export interface StreamStage {
  kind: StageKind;
  name: string;
  /** IR ops the stage runs, in graph order. */
  ops: number[];
  /** Tensor whose rows the stage reads, and tensor it writes (for conv_pool: the pool's output). */
  input: number;
  output: number;
  /** Rows, columns and channels of the input and output images (conv_pool: of the conv's output). */
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  /** Bytes per element of the activations (1 on the integer path, 4 for float32). */
  elementBytes: number;
  /** The block, for 'block' stages. */
  block?: InvertedResidualBlock;
  /** A pointwise stage that only requantizes (QUANTIZE), no weights. */
  elementwise?: boolean;
  /** The head's ops and tensors, for 'row_head' stages. */
  head?: RowHead;
}

/**
 * How a tensor of a row head is made:
 * - 'row': one row per row of the head's input, made in the (last) pass that reads it;
 * - 'const': a per-image vector (1×1 spatially): the pool's mean and ops on it alone,
 *   made once between the passes;
 * - 'bcast': a 1×1 vector resized (bilinear) over the input's rows and columns and ops on
 *   that alone: every row is the same, so one row is made once, between the passes.
 *   (Bilinear interpolation between equal taps returns the tap exactly: TF's float
 *   lerp a + (b − a)·f, and XNNPACK's 11-bit integer lerp whose weights sum to 2^22.)
 */
export type HeadTensorKind = 'row' | 'const' | 'bcast';

export interface RowHead {
  /** The head's ops in graph order. */
  ops: number[];
  /** The global average pool of the head's input (it needs a first pass over every row), or -1. */
  pool: number;
  /** Every tensor the head makes, except its output, in graph order; `bytes`: one row ('row', 'bcast') or all of it ('const'). */
  tensors: { id: number; kind: HeadTensorKind; bytes: number }[];
  /** The tensor it writes whole ('row'): the only one read after the head. */
  output: number;
  /** Passes over the stream: 2 with a pool, else 1. */
  passes: 1 | 2;
  /**
   * Work counts for the cost model (stream/config.ts): per row of the input (the pool's sums,
   * every 'row' op) and once (the 'const' and 'bcast' ops). A 1x1 conv counts its GEMM's
   * multiply-adds (output channels padded to 8, as the kernels run them), any other op one
   * per value; `values` are the values requantized to 8 bits.
   */
  work: { perRow: HeadWork; once: HeadWork };
}

export interface HeadWork {
  multiplyAdds: number;
  values: number;
  calls: number;
}

const isChannelConcat = (op: Op, g: Graph) =>
  op.kind === 'concat' && (op.axis === 3 || op.axis === -1) && g.tensors[op.outputs[0]!]!.shape.length === 4;

/**
 * The row head reading tensor `x` (H×W×C), or undefined. Ops are taken in graph order
 * while every activation they read is the head's: a global average pool of `x` itself
 * ('const'), 1x1 convs and QUANTIZE (same kind as their input), a bilinear resize of a
 * 1×1 'const' to H×W ('bcast'), a channel concatenation of H×W 'row'/'bcast' tensors
 * ('row' if any input is). The head ends at its one 'row' tensor read by some other op
 * (or a graph output); every other head tensor must be read only inside the head.
 */
export function rowHead(g: Graph, x: number): RowHead | undefined {
  const xt = g.tensors[x]!;
  if (xt.shape.length !== 4 || xt.shape[0] !== 1 || g.outputs.includes(x)) return undefined;
  const [, H, W] = xt.shape as [number, number, number, number];
  const kind = new Map<number, HeadTensorKind>([[x, 'row']]);
  const ops: number[] = [];
  let pool = -1;
  const readOutside = new Set<number>();
  const hw = (id: number, h: number, w: number) => {
    const s = g.tensors[id]!.shape;
    return s.length === 4 && s[0] === 1 && s[1] === h && s[2] === w;
  };
  for (const op of g.ops) {
    if (op.id <= xt.producer) continue;
    const acts = op.inputs.filter((i) => !g.tensors[i]!.constant);
    const mine = acts.filter((i) => kind.has(i));
    if (mine.length === 0) continue;
    const kinds = acts.map((i) => kind.get(i));
    let out: HeadTensorKind | undefined;
    const y = op.outputs[0]!;
    if (mine.length === acts.length && op.outputs.length === 1) {
      const k0 = kinds[0]!;
      if (op.kind === 'global_avgpool' && acts[0] === x && pool < 0 && op.keepDims && hw(y, 1, 1)) out = 'const';
      else if (op.kind === 'conv2d' && acts.length === 1 && is1x1(op)) out = k0;
      else if (op.kind === 'quantize' && g.tensors[y]!.shape.length === 4) out = k0;
      else if (op.kind === 'resize_bilinear' && k0 === 'const' && hw(acts[0]!, 1, 1) && hw(y, H, W)) out = 'bcast';
      else if (isChannelConcat(op, g) && kinds.every((k) => k !== 'const') && acts.every((i) => hw(i, H, W)))
        out = kinds.includes('row') ? 'row' : 'bcast';
    }
    if (out === undefined) {
      for (const i of mine) readOutside.add(i);
      continue;
    }
    if (op.kind === 'global_avgpool') pool = op.id;
    kind.set(y, out);
    ops.push(op.id);
  }
  for (const id of kind.keys()) if (g.outputs.includes(id)) readOutside.add(id);
  if (readOutside.size !== 1 || ops.length === 0) return undefined;
  const output = [...readOutside][0]!;
  if (output === x || kind.get(output) !== 'row' || !hw(output, H, W)) return undefined;
  const inHead = new Set(ops);
  // The output is read only after the head; every other head tensor only inside it (and is read).
  if (g.tensors[output]!.consumers.some((c) => inHead.has(c))) return undefined;
  for (const id of kind.keys()) {
    if (id === output) continue;
    const cs = g.tensors[id]!.consumers;
    if (cs.length === 0 || cs.some((c) => !inHead.has(c))) return undefined;
  }
  const tensors = [...kind]
    .filter(([id]) => id !== x && id !== output)
    .map(([id, k]) => {
      const t = g.tensors[id]!;
      const all = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
      return { id, kind: k, bytes: k === 'const' ? all : all / H };
    })
    .sort((a, b) => g.tensors[a.id]!.producer - g.tensors[b.id]!.producer);
  const perRow: HeadWork = { multiplyAdds: 0, values: 0, calls: 0 };
  const once: HeadWork = { multiplyAdds: 0, values: 0, calls: 0 };
  for (const id of ops) {
    const op = g.ops[id]!;
    const y = op.outputs[0]!;
    const yShape = g.tensors[y]!.shape;
    const c = yShape[yShape.length - 1]!;
    if (op.kind === 'global_avgpool') {
      perRow.multiplyAdds += W * xt.shape[3]!;
      perRow.calls += 1;
      continue;
    }
    const k = kind.get(y)!;
    const at = k === 'row' ? perRow : once;
    const pixels = k === 'const' ? 1 : W;
    const cin = g.tensors[op.inputs[0]!]!.shape[3]!;
    at.multiplyAdds += pixels * (op.kind === 'conv2d' ? cin * (Math.ceil(c / 8) * 8) : c);
    if (op.kind === 'conv2d' || op.kind === 'quantize') at.values += pixels * c;
    at.calls += op.kind === 'concat' ? op.inputs.length : 1;
  }
  return { ops, pool, tensors, output, passes: pool >= 0 ? 2 : 1, work: { perRow, once } };
}

/** Geometry of a block stage read from its ops. */
export interface BlockRows {
  /** Expanded tensor E rows and the depthwise (= output) rows. */
  He: number;
  We: number;
  Cexp: number;
  /** Expansion: 1x1 (kernel 1, stride 1) or the stem conv (kernel, stride, dilation, top padding, vertical). */
  ekh: number;
  esh: number;
  edh: number;
  ept: number;
  /** Depthwise vertical stride, dilation, top padding, and horizontal. */
  sh: number;
  dh: number;
  pt: number;
  sw: number;
  dw: number;
  pl: number;
  residual: boolean;
  /** Expansion multiply-adds per expanded value (C_in, or kh·kw·C_in for the stem). */
  expandK: number;
}

export function blockRows(g: Graph, b: InvertedResidualBlock): BlockRows {
  const e = g.ops[b.expand] as Conv2DOp;
  const d = g.ops[b.depthwise] as DepthwiseConv2DOp;
  const cin = g.tensors[b.input]!.shape[3]!;
  return {
    He: b.expandedSize[0],
    We: b.expandedSize[1],
    Cexp: b.expandedChannels,
    ekh: e.kernel[0],
    esh: e.stride[0],
    edh: e.dilation[0],
    ept: e.pad.top,
    sh: d.stride[0],
    dh: d.dilation[0],
    pt: d.pad.top,
    sw: d.stride[1],
    dw: d.dilation[1],
    pl: d.pad.left,
    residual: b.add >= 0,
    expandK: e.kernel[0] * e.kernel[1] * cin,
  };
}

/** Inclusive row span; empty when hi < lo. */
export interface Span {
  lo: number;
  hi: number;
}

export const EMPTY: Span = Object.freeze({ lo: 0, hi: -1 });

/** Rows [a, b] of a tap window clipped to [0, n). */
const clip = (a: number, b: number, n: number): Span => ({ lo: Math.max(0, a), hi: Math.min(n - 1, b) });

/** Expanded rows the depthwise rows [r0, r1) read. */
export function expandedRowsOf(br: BlockRows, r0: number, r1: number): Span {
  return clip(r0 * br.sh - br.pt, (r1 - 1) * br.sh - br.pt + 2 * br.dh, br.He);
}

/** Input rows the expanded rows `e` are computed from (1x1: the same rows; the stem: its 3x3 taps). */
export function inputRowsOfExpanded(br: BlockRows, e: Span, inH: number): Span {
  if (e.hi < e.lo) return EMPTY;
  return clip(e.lo * br.esh - br.ept, e.hi * br.esh - br.ept + (br.ekh - 1) * br.edh, inH);
}

/**
 * Expanded rows a block computes for output rows [r0, r1): every row of the window when it
 * recomputes; with a ring of expanded rows, only those no earlier call made (calls come in
 * row order, each starting where the last ended).
 */
export function expandedRowsComputed(br: BlockRows, r0: number, r1: number, ring: boolean): Span {
  const w = expandedRowsOf(br, r0, r1);
  if (!ring || r0 === 0) return w;
  const before = expandedRowsOf(br, 0, r0).hi;
  return { lo: Math.max(w.lo, before + 1), hi: w.hi };
}

const union = (a: Span, b: Span): Span =>
  a.hi < a.lo ? b : b.hi < b.lo ? a : { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };

/** A stage with its row geometry resolved (what the schedule and the cost model read). */
export interface StageRows {
  stage: StreamStage;
  /** Block geometry ('block' stages). */
  rows?: BlockRows;
}

export function stageRows(g: Graph, s: StreamStage): StageRows {
  return s.kind === 'block' ? { stage: s, rows: blockRows(g, s.block!) } : { stage: s };
}

/**
 * Rows of the stage's input that must be present while it makes output rows [r0, r1):
 * the rows its expansion reads and, with a residual add, rows [r0, r1) themselves.
 */
export function needRows(s: StageRows, r0: number, r1: number, ringExpanded: boolean): Span {
  if (s.stage.kind !== 'block') return { lo: r0, hi: r1 - 1 };
  const br = s.rows!;
  const x = inputRowsOfExpanded(br, expandedRowsComputed(br, r0, r1, ringExpanded), s.stage.inH);
  return br.residual ? union(x, { lo: r0, hi: r1 - 1 }) : x;
}

const shapeOf = (g: Graph, id: number) => {
  const s = g.tensors[id]!.shape;
  return s.length === 4 ? { h: s[1]!, w: s[2]!, c: s[3]! } : { h: 1, w: 1, c: s[s.length - 1]! };
};

/** The single reader of tensor `id` (undefined when it has none, several, or is a graph output). */
function soleReader(g: Graph, id: number): Op | undefined {
  const readers = [...new Set(g.tensors[id]!.consumers)];
  if (readers.length !== 1 || g.outputs.includes(id)) return undefined;
  return g.ops[readers[0]!];
}

const is1x1 = (op: Conv2DOp) =>
  op.kernel[0] === 1 &&
  op.kernel[1] === 1 &&
  op.stride[0] === 1 &&
  op.stride[1] === 1 &&
  op.pad.top + op.pad.bottom + op.pad.left + op.pad.right === 0;

function stage(
  g: Graph,
  kind: StageKind,
  name: string,
  ops: number[],
  input: number,
  output: number,
  outShapeOf = output,
): StreamStage {
  const i = shapeOf(g, input);
  const o = shapeOf(g, outShapeOf);
  const t = g.tensors[input]!;
  return {
    kind,
    name,
    ops,
    input,
    output,
    inH: i.h,
    inW: i.w,
    inC: i.c,
    outH: o.h,
    outW: o.w,
    outC: o.c,
    elementBytes: DTYPE_BYTES[t.dtype],
  };
}

/**
 * The longest chain of streamable stages from the network input: blocks, 1x1 convs and
 * QUANTIZE ops, each reading the previous stage's output as its only reader, ended by a
 * 1x1 conv + global average pool head when there is one. Empty when the network does not
 * start that way. `blocks` defaults to detectBlocks(g).
 */
export function streamChain(g: Graph, blocks: InvertedResidualBlock[] = detectBlocks(g)): StreamStage[] {
  if (g.inputs.length !== 1) return [];
  const byInput = new Map<number, InvertedResidualBlock>();
  for (const b of blocks) byInput.set(b.input, b);
  const chain: StreamStage[] = [];
  let t = g.inputs[0]!;
  const first = g.tensors[t]!;
  if (first.shape.length !== 4 || first.shape[0] !== 1) return [];
  for (;;) {
    if (g.outputs.includes(t)) break;
    const b = byInput.get(t);
    if (b) {
      // The block's expansion and its add are x's only readers.
      const readers = new Set(g.tensors[t]!.consumers);
      const own = new Set([b.expand, b.add].filter((o) => o >= 0));
      if ([...readers].some((r) => !own.has(r))) break;
      const ops = [b.expand, b.depthwise, b.project, b.add].filter((o) => o >= 0);
      chain.push({ ...stage(g, 'block', b.name, ops, t, b.output), block: b });
      t = b.output;
      continue;
    }
    const op = soleReader(g, t);
    if (!op) break;
    const out = op.outputs[0]!;
    if (op.kind === 'quantize' && g.tensors[out]!.shape.length === 4 && chain.length === 0) {
      chain.push({ ...stage(g, 'pointwise', op.name, [op.id], t, out), elementwise: true });
      t = out;
      continue;
    }
    if (op.kind === 'conv2d' && is1x1(op)) {
      const pool = soleReader(g, out);
      if (!pool && rowHead(g, t)) break;
      if (pool && pool.kind === 'global_avgpool') {
        chain.push(stage(g, 'conv_pool', `${op.name}+${pool.name}`, [op.id, pool.id], t, pool.outputs[0]!, out));
        break;
      }
      chain.push(stage(g, 'pointwise', op.name, [op.id], t, out));
      t = out;
      continue;
    }
    break;
  }
  // A row head after the last block or pointwise stage ends the chain.
  const last = chain[chain.length - 1];
  if (last && last.kind !== 'conv_pool') {
    const head = rowHead(g, t);
    if (head) {
      const name = `head ${g.ops[head.ops[0]!]!.name}..${g.ops[head.ops[head.ops.length - 1]!]!.name}`;
      chain.push({ ...stage(g, 'row_head', name, head.ops, t, head.output), head });
    }
  }
  // A stream must contain at least one block; a trailing pointwise chain without one gains nothing.
  return chain.some((s) => s.kind === 'block') ? chain : [];
}

const blockCache = new WeakMap<Graph, Map<number, InvertedResidualBlock>>();

/** A planned stage as the schedule and cost model see it (its shapes and block, from the graph). */
export function stageOfPlan(
  g: Graph,
  s: { kind: StageKind; name: string; ops: number[]; input: number; output: number; expand: number },
): StreamStage {
  let blocks = blockCache.get(g);
  if (!blocks) {
    blocks = new Map(detectBlocks(g).map((b) => [b.expand, b]));
    blockCache.set(g, blocks);
  }
  const shapeOut = s.kind === 'conv_pool' ? g.ops[s.ops[0]!]!.outputs[0]! : s.output;
  const base = stage(g, s.kind, s.name, s.ops, s.input, s.output, shapeOut);
  if (s.kind === 'block') {
    const b = blocks.get(s.expand);
    if (!b) throw new Error(`stage '${s.name}' is not an inverted residual block of '${g.name}'`);
    return { ...base, block: b };
  }
  if (s.kind === 'row_head') {
    const head = rowHead(g, s.input);
    if (!head || head.output !== s.output || head.ops.join() !== s.ops.join())
      throw new Error(`stage '${s.name}' is not the row head reading '${g.tensors[s.input]!.name}' in '${g.name}'`);
    return { ...base, head };
  }
  const op = g.ops[s.ops[0]!]!;
  return op.kind === 'quantize' ? { ...base, elementwise: true } : base;
}
