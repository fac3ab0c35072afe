/**
 * Inverted residual blocks (MobileNetV2 paper, Section 5.1) found in a graph,
 * and the memory one needs when its inner channels run in chunks.
 *
 *   x ─ expand (conv2d, relu6) ─ E ─ depthwise (relu6) ─ D ─ project (1x1, none) ─ P ─┬─ [add x] ─ y
 *   └───────────────────────────────────────────────────────────────────────────────────┘
 *
 * Run as one unit with t chunks of c = ceil(C_exp / t) expanded channels, only
 * x, y and one chunk of E (c × H_e × W_e) and one chunk of D (c × H_d × W_d)
 * exist at once; E, D (and P when the add is fused) are never materialized.
 * The expansion is a 1x1 conv, or, for the first layer, the 3x3/2 stem conv
 * reading the network input (the paper treats conv 3x3/2 + block 0 that way).
 */
import { tensorBytes, DTYPE_BYTES, type Conv2DOp, type Graph, type Op, type Tensor } from './ir.js';

export interface InvertedResidualBlock {
  /** Shared name prefix of its ops ('expanded_conv_1'), or 'Conv+expanded_conv' for the stem. */
  name: string;
  /** Op ids; `add` is -1 when the block has no fused residual connection. */
  expand: number;
  depthwise: number;
  project: number;
  add: number;
  /** True when the expansion is the network's first (non-1x1) convolution. */
  stem: boolean;
  /** Tensor ids: block input x and output y (the add's output, else the projection's). */
  input: number;
  output: number;
  /** Tensors the fused block never materializes: E, D and, with a fused add, P. */
  internal: number[];
  /** C_exp: channels of E (= channels of D). */
  expandedChannels: number;
  /** [H_e, W_e]: spatial size of E (the depthwise input). */
  expandedSize: [number, number];
  /** [H_d, W_d]: spatial size of D (the depthwise output). */
  depthwiseSize: [number, number];
  /** Bytes per element of E and D (by dtype). */
  expandedElementBytes: number;
  depthwiseElementBytes: number;
}

/** Scratch of one chunk of c channels: the expanded chunk and the depthwise chunk, in bytes. */
export function chunkScratchBytes(
  b: InvertedResidualBlock,
  chunkChannels: number,
): { expand: number; depthwise: number } {
  const [he, we] = b.expandedSize;
  const [hd, wd] = b.depthwiseSize;
  return {
    expand: chunkChannels * he * we * b.expandedElementBytes,
    depthwise: chunkChannels * hd * wd * b.depthwiseElementBytes,
  };
}

/** Section 5.1 footprint with chunks of c channels: |x| + |y| + c·H_e·W_e + c·H_d·W_d, in bytes. */
export function blockFootprintBytes(graph: Graph, b: InvertedResidualBlock, chunkChannels: number): number {
  const s = chunkScratchBytes(b, chunkChannels);
  return tensorBytes(graph.tensors[b.input]!) + tensorBytes(graph.tensors[b.output]!) + s.expand + s.depthwise;
}

/** Channels per chunk for t chunks: c = ceil(C_exp / t), with t clamped to 1..C_exp. */
export function chunkChannelsFor(b: InvertedResidualBlock, t: number): number {
  const c = b.expandedChannels;
  const tt = Math.min(Math.max(1, Math.floor(t)), c);
  return Math.ceil(c / tt);
}

/**
 * Number of chunks actually run with c channels each: ceil(C_exp / c). It can
 * be below the requested t when t does not divide C_exp (C_exp 32, t 10 → c 4, 8 chunks).
 */
export function chunksFor(b: InvertedResidualBlock, chunkChannels: number): number {
  return Math.ceil(b.expandedChannels / chunkChannels);
}

const isPointwise = (op: Conv2DOp): boolean =>
  op.kernel[0] === 1 &&
  op.kernel[1] === 1 &&
  op.stride[0] === 1 &&
  op.stride[1] === 1 &&
  op.pad.top === 0 &&
  op.pad.bottom === 0 &&
  op.pad.left === 0 &&
  op.pad.right === 0;

/** The network input, or the network input only re-quantized (TF2 int8 files start with a QUANTIZE of the input). */
function isNetworkInput(graph: Graph, id: number): boolean {
  if (graph.inputs.includes(id)) return true;
  const producer = graph.tensors[id]!.producer;
  if (producer < 0) return false;
  const op = graph.ops[producer]!;
  return op.kind === 'quantize' && op.inputs.length === 1 && graph.inputs.includes(op.inputs[0]!);
}

/** The first layer, which Section 5.1 fuses with block 0: the 3x3 stride-2 conv on the network input. */
const isStem = (graph: Graph, op: Conv2DOp): boolean =>
  op.kernel[0] === 3 &&
  op.kernel[1] === 3 &&
  op.stride[0] === 2 &&
  op.stride[1] === 2 &&
  op.dilation[0] === 1 &&
  op.dilation[1] === 1 &&
  isNetworkInput(graph, op.inputs[0]!);

/** The single op consuming tensor `id`, when it has exactly one consumer and is not a graph output. */
function soleConsumer(graph: Graph, id: number): Op | undefined {
  const t = graph.tensors[id]!;
  const consumers = [...new Set(t.consumers)];
  if (consumers.length !== 1 || graph.outputs.includes(id)) return undefined;
  return graph.ops[consumers[0]!];
}

function blockName(graph: Graph, ops: Op[], stem: boolean): string {
  const prefix = (name: string) => (name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : name);
  if (stem) return `${ops[0]!.name}+${prefix(ops[1]!.name)}`;
  const p = prefix(ops[0]!.name);
  return ops.every((op) => prefix(op.name) === p) ? p : `${ops[0]!.name}..${ops[ops.length - 1]!.name}`;
}

/**
 * Every inverted residual block of the graph, in op order. A block is
 * expand (conv2d, relu6; 1x1 stride 1 unpadded, or the 3x3/2 conv reading the
 * network input, possibly through a QUANTIZE) → dwconv2d (relu6, depth multiplier 1) → conv2d 1x1 (act none)
 * → optional add (act none) of the block input; each intermediate tensor has
 * exactly one consumer and is not a graph output. Blocks never overlap.
 */
export function detectBlocks(graph: Graph): InvertedResidualBlock[] {
  const blocks: InvertedResidualBlock[] = [];
  for (const e of graph.ops) {
    if (e.kind !== 'conv2d' || e.act !== 'relu6') continue;
    const stem = !isPointwise(e) && isStem(graph, e);
    if (!isPointwise(e) && !stem) continue;
    const E = e.outputs[0]!;
    const d = soleConsumer(graph, E);
    if (!d || d.kind !== 'dwconv2d' || d.act !== 'relu6' || d.depthMultiplier !== 1) continue;
    const D = d.outputs[0]!;
    const p = soleConsumer(graph, D);
    if (!p || p.kind !== 'conv2d' || p.act !== 'none' || !isPointwise(p)) continue;
    const P = p.outputs[0]!;
    const x = e.inputs[0]!;
    const a = soleConsumer(graph, P);
    const hasAdd =
      !!a &&
      a.kind === 'add' &&
      a.act === 'none' &&
      a.inputs.length === 2 &&
      a.inputs.includes(x) &&
      a.inputs.includes(P) &&
      x !== P;
    const ops: Op[] = hasAdd ? [e, d, p, a!] : [e, d, p];
    const tE = graph.tensors[E]!;
    const tD = graph.tensors[D]!;
    const y = hasAdd ? a!.outputs[0]! : P;
    blocks.push({
      name: blockName(graph, ops, stem),
      expand: e.id,
      depthwise: d.id,
      project: p.id,
      add: hasAdd ? a!.id : -1,
      stem,
      input: x,
      output: y,
      internal: hasAdd ? [E, D, P] : [E, D],
      expandedChannels: tE.shape[3]!,
      expandedSize: [tE.shape[1]!, tE.shape[2]!],
      depthwiseSize: [tD.shape[1]!, tD.shape[2]!],
      expandedElementBytes: DTYPE_BYTES[tE.dtype],
      depthwiseElementBytes: DTYPE_BYTES[tD.dtype],
    });
  }
  return blocks;
}

/** Bytes of a tensor by id (activation tensors; dtype-aware). */
export function bytesOf(graph: Graph, id: number): number {
  return tensorBytes(graph.tensors[id] as Tensor);
}
