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
import type { PlannedBuffer, PlanStep, StreamStagePlan } from './plan.js';
import { chunkScratchBytes, chunksFor } from './blocks.js';
import { tensorBytes } from './ir.js';
import type { UnitGraph } from './units.js';
import { headLayout, streamPasses } from './stream/config.js';
import type { StreamStage } from './stream/stages.js';

/** A row head stage's pool and tensor areas, as the plan records them. */
function headPlan(st: StreamStage): NonNullable<StreamStagePlan['head']> {
  const l = headLayout(st);
  return { pool: st.head!.pool, state: l.state.map((a) => ({ ...a })), work: l.work.map((a) => ({ ...a })) };
}

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
  // A stream's buffers, all live at its step: a ring per stage input (unless the input is
  // a whole tensor in the arena), each stage's state (expanded ring, pool sums), the work area.
  let streamBufs: { rings: (Pending | undefined)[]; states: (Pending | undefined)[]; work: Pending } | undefined;
  order.forEach((u, i) => {
    const unit = ug.units[u]!;
    if (unit.kind !== 'stream') return;
    const sp = ug.stream!;
    const fp = sp.footprint;
    const rings = sp.stages.map((st, k): Pending | undefined => {
      if (k === 0 && !sp.externalInput) return undefined;
      const rowBytes = st.inW * st.inC * st.elementBytes;
      const mirrorRows = fp.stageBytes[k]!.mirrorRows;
      return {
        name: `${g.tensors[st.input]!.name}/ring`,
        tensor: st.input,
        bytes: (fp.ringRows[k]! + mirrorRows) * rowBytes,
        firstStep: i,
        lastStep: i,
        offset: 0,
        ring: { rows: fp.ringRows[k]!, rowBytes, mirrorRows },
        order: -3,
      };
    });
    const states = sp.stages.map((st, k): Pending | undefined => {
      const b = fp.stageBytes[k]!;
      const bytes = b.expandRing + b.poolSums + b.headState;
      if (bytes === 0) return undefined;
      return {
        name: `${st.name}/${b.expandRing ? 'expanded_ring' : b.headState ? 'head_state' : 'pool_sums'}`,
        tensor: -1,
        bytes,
        firstStep: i,
        lastStep: i,
        offset: 0,
        order: -3,
      };
    });
    const work: Pending = {
      name: `${sp.name}/work`,
      tensor: -1,
      bytes: fp.workBytes,
      firstStep: i,
      lastStep: i,
      offset: 0,
      order: -3,
    };
    pending.push(...(rings.filter(Boolean) as Pending[]), ...(states.filter(Boolean) as Pending[]), work);
    streamBufs = { rings, states, work };
  });
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

  const tensorBuffer = (t: number) => {
    const k = pending.findIndex((p) => p.tensor === t && p.aliasOf === undefined && !p.ring);
    if (k >= 0) return k;
    const a = pending.findIndex((p) => p.tensor === t && !p.ring);
    if (a < 0) throw new Error(`internal: tensor '${g.tensors[t]!.name}' has no buffer`);
    return a;
  };
  const steps: PlanStep[] = order.map((u) => {
    const unit = ug.units[u]!;
    if (unit.kind === 'op') return { kind: 'op', op: unit.op };
    if (unit.kind === 'stream') {
      const sp = ug.stream!;
      const sb = streamBufs!;
      const stages = sp.stages.map((st, k): StreamStagePlan => {
        const c = sp.configs[k]!;
        const bytes = sp.footprint.stageBytes[k]!;
        const b = st.block;
        const G = st.kind === 'block' ? (c.expanded === 'ring' ? b!.expandedChannels : c.groupChannels) : st.outC;
        const ring = sb.rings[k];
        const state = sb.states[k];
        return {
          kind: st.kind,
          name: st.name,
          ops: st.ops.slice(),
          input: st.input,
          output: st.output,
          expand: b ? b.expand : -1,
          depthwise: b ? b.depthwise : -1,
          project: b ? b.project : -1,
          add: b ? b.add : -1,
          bandRows: c.bandRows,
          expanded: st.kind === 'block' ? c.expanded : 'recompute',
          groupChannels: G,
          chunks: b ? Math.ceil(b.expandedChannels / G) : 1,
          tileCols: c.tileCols,
          inputBuffer: ring ? indexOf.get(ring)! : tensorBuffer(st.input),
          stateBuffer: state ? indexOf.get(state)! : -1,
          expandWork: { offset: 0, bytes: bytes.expandWork },
          depthwiseWork: { offset: bytes.expandWork, bytes: bytes.depthwiseWork },
          accOffset: bytes.accOffset,
          ...(st.head ? { head: headPlan(st) } : {}),
        };
      });
      return {
        kind: 'stream',
        stages,
        externalInput: sp.externalInput,
        passes: streamPasses(sp.stages.map((stage) => ({ stage }))),
        workBuffer: indexOf.get(sb.work)!,
      };
    }
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
