/**
 * From a schedule (unit order, chunk channels per block, in-place decisions)
 * to the Plan's steps and buffers with exact lifetimes:
 * - a tensor lives from its producer's step (step 0 for a graph input) to its
 *   last reader's step, or to the last step for a graph output;
 * - tensors sharing memory (a reshape and its input; an in-place add and the
 *   input it overwrites) form one physical buffer whose lifetime is the union;
 *   the first tensor of the group owns the buffer, the others are alias
 *   buffers (`aliasOf` = owner tensor id) at the same offset;
 * - each block step has two scratch buffers (tensor −1) live at that step only.
 * Offsets are left at 0 for the placer.
 */
import type { PlannedBuffer, PlanStep } from './plan.js';
import { chunkScratchBytes, chunksFor } from './blocks.js';
import { tensorBytes } from './ir.js';
import type { UnitGraph } from './units.js';

export interface Schedule {
  units: UnitGraph;
  /** Unit indices in execution order. */
  order: number[];
  /** Channels per chunk of every block (index = block). */
  chunkChannels: number[];
  /** Per unit: the storage it overwrites in place, or −1 (memory.ts evaluateOrder). */
  inPlace: Int32Array;
}

export function buildStepsAndBuffers(s: Schedule): { steps: PlanStep[]; buffers: PlannedBuffer[] } {
  const { units: ug, order } = s;
  const g = ug.graph;
  const last = order.length - 1;
  const stepOfUnit = new Int32Array(ug.units.length).fill(-1);
  order.forEach((u, i) => (stepOfUnit[u] = i));
  const outputs = new Set(g.outputs);

  // Lifetime of every materialized tensor.
  const first = new Map<number, number>();
  const lastUse = new Map<number, number>();
  g.tensors.forEach((t) => {
    if (ug.storageOfTensor[t.id]! < 0) return;
    const f = t.producer < 0 ? 0 : stepOfUnit[ug.unitOfOp[t.producer]!]!;
    let l = f;
    for (const c of t.consumers) l = Math.max(l, stepOfUnit[ug.unitOfOp[c]!]!);
    if (outputs.has(t.id)) l = last;
    first.set(t.id, f);
    lastUse.set(t.id, l);
  });

  // Physical groups: storages merged by in-place writes (union-find on storages).
  const parent = ug.storages.map((_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  for (const u of order) {
    const target = s.inPlace[u]!;
    if (target < 0) continue;
    const created = ug.creates[u]![0]!;
    parent[find(created)] = find(target);
  }
  const owner = new Map<number, number>(); // group → owner tensor (earliest first step, then lowest id)
  const span = new Map<number, [number, number]>();
  for (const [t, f] of first) {
    const grp = find(ug.storageOfTensor[t]!);
    const o = owner.get(grp);
    if (o === undefined || f < first.get(o)! || (f === first.get(o)! && t < o)) owner.set(grp, t);
    const sp = span.get(grp);
    span.set(grp, sp ? [Math.min(sp[0], f), Math.max(sp[1], lastUse.get(t)!)] : [f, lastUse.get(t)!]);
  }

  type Pending = PlannedBuffer & { order: number };
  const pending: Pending[] = [];
  for (const [t, f] of first) {
    const grp = find(ug.storageOfTensor[t]!);
    const own = owner.get(grp)!;
    const tensor = g.tensors[t]!;
    if (own === t) {
      const [a, b] = span.get(grp)!;
      pending.push({
        name: tensor.name,
        tensor: t,
        bytes: tensorBytes(tensor),
        firstStep: a,
        lastStep: b,
        offset: 0,
        order: t,
      });
    } else {
      pending.push({
        name: tensor.name,
        tensor: t,
        bytes: tensorBytes(tensor),
        firstStep: f,
        lastStep: lastUse.get(t)!,
        offset: 0,
        aliasOf: own,
        order: t,
      });
    }
  }
  const scratchOf = new Map<number, [Pending, Pending]>();
  order.forEach((u, i) => {
    const unit = ug.units[u]!;
    if (unit.kind !== 'block') return;
    const b = ug.blocks[unit.block]!;
    const sc = chunkScratchBytes(b, s.chunkChannels[unit.block]!);
    const e: Pending = {
      name: `${b.name}/expand_chunk`,
      tensor: -1,
      bytes: sc.expand,
      firstStep: i,
      lastStep: i,
      offset: 0,
      order: -2,
    };
    const d: Pending = {
      name: `${b.name}/depthwise_chunk`,
      tensor: -1,
      bytes: sc.depthwise,
      firstStep: i,
      lastStep: i,
      offset: 0,
      order: -1,
    };
    pending.push(e, d);
    scratchOf.set(u, [e, d]);
  });
  // Deterministic buffer order: by first step; scratch before tensors; then tensor id.
  pending.sort((a, b) => a.firstStep - b.firstStep || a.order - b.order);
  const buffers: PlannedBuffer[] = pending.map(({ order: _o, ...rest }) => rest);
  const indexOf = new Map<Pending, number>();
  pending.forEach((p, i) => indexOf.set(p, i));

  const steps: PlanStep[] = order.map((u) => {
    const unit = ug.units[u]!;
    if (unit.kind === 'op') return { kind: 'op', op: unit.op };
    const b = ug.blocks[unit.block]!;
    const c = s.chunkChannels[unit.block]!;
    const [e, d] = scratchOf.get(u)!;
    return {
      kind: 'block',
      expand: b.expand,
      depthwise: b.depthwise,
      project: b.project,
      add: b.add,
      chunks: chunksFor(b, c),
      chunkChannels: c,
      expandBuffer: indexOf.get(e)!,
      depthwiseBuffer: indexOf.get(d)!,
    };
  });
  return { steps, buffers };
}

/** Live bytes per step of a plan's buffers (alias buffers share their owner's bytes and are not counted). */
export function liveBytesPerStep(buffers: readonly PlannedBuffer[], steps: number): number[] {
  const live = new Array<number>(steps).fill(0);
  for (const b of buffers) {
    if (b.aliasOf !== undefined) continue;
    for (let s = b.firstStep; s <= b.lastStep; s++) live[s]! += b.bytes;
  }
  return live;
}

/** Highest arena byte in use per step (largest offset + bytes among buffers live then). */
export function arenaUsePerStep(buffers: readonly PlannedBuffer[], steps: number): number[] {
  const top = new Array<number>(steps).fill(0);
  for (const b of buffers) {
    if (b.aliasOf !== undefined) continue;
    for (let s = b.firstStep; s <= b.lastStep; s++) top[s] = Math.max(top[s]!, b.offset + b.bytes);
  }
  return top;
}
