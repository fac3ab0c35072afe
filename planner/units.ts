/**
 * Schedule units: what the order search orders. A unit is one IR op, or one
 * fused inverted residual block (a single node, per Section 5.1). This file
 * turns a graph plus the chosen blocks into the MemoryProblem of memory.ts.
 */
import { tensorBytes, type Graph } from './ir.js';
import { aliasesInput, inPlaceInputs, storageRoot } from './aliasing.js';
import { chunkScratchBytes, type InvertedResidualBlock } from './blocks.js';
import type { MemoryProblem } from './memory.js';
import type { StageConfig, StreamFootprint } from './stream/config.js';
import type { StreamStage } from './stream/stages.js';

/** A streamed unit to plan as one node: its stages, how each runs, and the memory that takes. */
export interface StreamSpec {
  name: string;
  stages: StreamStage[];
  configs: StageConfig[];
  /** The first stage reads the caller's image (outside the arena), not a tensor in it. */
  externalInput: boolean;
  footprint: StreamFootprint;
}

export interface Unit {
  name: string;
  kind: 'op' | 'block' | 'stream';
  /** Op id of an 'op' unit; -1 for blocks and streams. */
  op: number;
  /** Index into UnitGraph.blocks of a 'block' unit; -1 for ops and streams. */
  block: number;
  /** IR ops it runs, in graph order. */
  ops: number[];
}

export interface UnitStorage {
  /** Tensor whose bytes these are; reshape outputs of it are `members` too. */
  root: number;
  members: number[];
  bytes: number;
  producer: number;
  consumers: number[];
  persistent: boolean;
}

export interface UnitGraph {
  graph: Graph;
  blocks: InvertedResidualBlock[];
  /** The streamed unit, when the plan has one (its blocks are not in `blocks`). */
  stream?: StreamSpec;
  /** Units in the graph's own order (a block sits where its last op is). */
  units: Unit[];
  unitOfOp: Int32Array;
  /** Storage index of every tensor; -1 for constants and tensors a fused block never materializes. */
  storageOfTensor: Int32Array;
  storages: UnitStorage[];
  preds: number[][];
  /** Storages each unit reads / creates (deduplicated). */
  reads: number[][];
  creates: number[][];
  /** Storages each unit may overwrite in place (aliasing.ts), in preference order. */
  inPlaceFrom: number[][];
}

/** Tensors a streamed unit never materializes: everything between its input and its output (and its input when external). */
export function streamInternalTensors(graph: Graph, spec: Pick<StreamSpec, 'stages' | 'externalInput'>): number[] {
  const out: number[] = [];
  const { stages } = spec;
  if (spec.externalInput) out.push(stages[0]!.input);
  stages.forEach((s, i) => {
    if (s.block) out.push(...s.block.internal);
    if (s.kind === 'conv_pool') out.push(graph.ops[s.ops[0]!]!.outputs[0]!);
    if (s.head) out.push(...s.head.tensors.map((t) => t.id));
    if (i < stages.length - 1) out.push(s.output);
  });
  return out;
}

export function buildUnitGraph(graph: Graph, blocks: InvertedResidualBlock[], stream?: StreamSpec): UnitGraph {
  const nOps = graph.ops.length;
  const internal = new Set<number>();
  for (const b of blocks) for (const t of b.internal) internal.add(t);
  if (stream) for (const t of streamInternalTensors(graph, stream)) internal.add(t);
  const blockOfOp = new Int32Array(nOps).fill(-1);
  blocks.forEach((b, i) => {
    for (const op of [b.expand, b.depthwise, b.project, b.add]) if (op >= 0) blockOfOp[op] = i;
  });

  // Units in graph order; a block takes the position of its last op, which is
  // always a valid topological position (its inner tensors have no other readers).
  // So does a stream: each of its tensors has one reader, inside it.
  const keyed: { key: number; unit: Unit }[] = [];
  if (stream) {
    const ops = stream.stages.flatMap((s) => s.ops).sort((a, c) => a - c);
    for (const op of ops) {
      if (blockOfOp[op] !== -1) throw new Error(`op '${graph.ops[op]!.name}' is in a block and in the stream`);
      blockOfOp[op] = -2;
    }
    keyed.push({ key: ops[ops.length - 1]!, unit: { name: stream.name, kind: 'stream', op: -1, block: -1, ops } });
  }
  blocks.forEach((b, i) => {
    const ops = [b.expand, b.depthwise, b.project, b.add].filter((o) => o >= 0).sort((a, c) => a - c);
    keyed.push({ key: ops[ops.length - 1]!, unit: { name: b.name, kind: 'block', op: -1, block: i, ops } });
  });
  for (const op of graph.ops)
    if (blockOfOp[op.id] === -1)
      keyed.push({ key: op.id, unit: { name: op.name, kind: 'op', op: op.id, block: -1, ops: [op.id] } });
  keyed.sort((a, b) => a.key - b.key);
  const units = keyed.map((k) => k.unit);
  const unitOfOp = new Int32Array(nOps).fill(-1);
  units.forEach((u, i) => {
    for (const op of u.ops) unitOfOp[op] = i;
  });

  // Storages: one per materialized root tensor; reshape outputs join their input's.
  const storageOfTensor = new Int32Array(graph.tensors.length).fill(-1);
  const storages: UnitStorage[] = [];
  const outputs = new Set(graph.outputs);
  const inputs = new Set(graph.inputs);
  for (const t of graph.tensors) {
    if (t.constant || internal.has(t.id)) continue;
    if (t.producer < 0 && !inputs.has(t.id)) continue;
    const root = storageRoot(graph, t.id);
    if (internal.has(root))
      throw new Error(
        `tensor '${t.name}' reshapes '${graph.tensors[root]!.name}', which a fused block never materializes`,
      );
    let s = storageOfTensor[root]!;
    if (s < 0) {
      const r = graph.tensors[root]!;
      s = storages.length;
      storages.push({
        root,
        members: [],
        bytes: tensorBytes(r),
        producer: r.producer < 0 ? -1 : unitOfOp[r.producer]!,
        consumers: [],
        persistent: false,
      });
      storageOfTensor[root] = s;
    }
    storageOfTensor[t.id] = s;
  }
  for (let id = 0; id < graph.tensors.length; id++) {
    const s = storageOfTensor[id]!;
    if (s < 0) continue;
    const st = storages[s]!;
    if (!st.members.includes(id)) st.members.push(id);
    if (outputs.has(id)) st.persistent = true;
    for (const c of graph.tensors[id]!.consumers) {
      const u = unitOfOp[c]!;
      if (!st.consumers.includes(u)) st.consumers.push(u);
    }
  }
  for (const st of storages) st.consumers.sort((a, b) => a - b);

  const preds: number[][] = units.map(() => []);
  const reads: number[][] = units.map(() => []);
  const creates: number[][] = units.map(() => []);
  const inPlaceFrom: number[][] = units.map(() => []);
  units.forEach((u, ui) => {
    for (const opId of u.ops) {
      const op = graph.ops[opId]!;
      for (const x of op.inputs) {
        if (internal.has(x)) continue;
        const s = storageOfTensor[x]!;
        if (s < 0)
          throw new Error(`op '${op.name}' (${op.kind}) reads '${graph.tensors[x]!.name}', which nothing writes`);
        if (!reads[ui]!.includes(s)) reads[ui]!.push(s);
        const p = graph.tensors[x]!.producer;
        if (p >= 0 && unitOfOp[p] !== ui && !preds[ui]!.includes(unitOfOp[p]!)) preds[ui]!.push(unitOfOp[p]!);
      }
      if (aliasesInput(op)) continue;
      for (const o of op.outputs) {
        if (internal.has(o)) continue;
        const s = storageOfTensor[o]!;
        if (storages[s]!.root === o && !creates[ui]!.includes(s)) creates[ui]!.push(s);
      }
    }
    if (u.kind === 'op' && creates[ui]!.length === 1) {
      const op = graph.ops[u.op]!;
      inPlaceFrom[ui] = [...new Set(inPlaceInputs(graph, op).map((i) => storageOfTensor[i]!))].filter(
        (s) => storages[s]!.bytes === storages[creates[ui]![0]!]!.bytes,
      );
    }
  });
  for (const p of preds) p.sort((a, b) => a - b);
  return {
    graph,
    blocks,
    ...(stream ? { stream } : {}),
    units,
    unitOfOp,
    storageOfTensor,
    storages,
    preds,
    reads,
    creates,
    inPlaceFrom,
  };
}

/** Scratch bytes of every unit given the chunk channels of every block (index = block). */
export function unitScratchBytes(ug: UnitGraph, chunkChannels: readonly number[]): number[] {
  return ug.units.map((u) => {
    if (u.kind === 'stream') return ug.stream!.footprint.totalBytes;
    if (u.kind !== 'block') return 0;
    const s = chunkScratchBytes(ug.blocks[u.block]!, chunkChannels[u.block]!);
    return s.expand + s.depthwise;
  });
}

export function memoryProblem(ug: UnitGraph, chunkChannels: readonly number[]): MemoryProblem {
  const scratch = unitScratchBytes(ug, chunkChannels);
  return {
    baseBytes: 0,
    nodes: ug.units.map((u, i) => ({
      name: u.name,
      preds: ug.preds[i]!,
      reads: ug.reads[i]!,
      creates: ug.creates[i]!,
      scratchBytes: scratch[i]!,
      inPlaceFrom: ug.inPlaceFrom[i]!,
    })),
    storages: ug.storages.map((s) => ({
      name: ug.graph.tensors[s.root]!.name,
      bytes: s.bytes,
      producer: s.producer,
      consumers: s.consumers,
      persistent: s.persistent,
    })),
  };
}
