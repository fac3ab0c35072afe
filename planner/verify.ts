/**
 * verifyPlan: the independent check every planner test (and the executor's
 * tests) runs on a Plan. It recomputes from the graph and the steps alone:
 * - the steps run every op exactly once, inputs before readers, and each block
 *   step is a real inverted residual block with a valid chunk count;
 * - every materialized activation tensor has exactly one buffer, its offset in
 *   tensorOffsets, and the exact lifetime (producer step .. last reader step,
 *   0 for graph inputs, the last step for graph outputs); tensors a block
 *   never materializes have none;
 * - shared memory is legal: an alias buffer is a reshape of, or an add writing
 *   over a dying input of, its owner's group, and the owner's lifetime is the
 *   union of the group's;
 * - chunk scratch buffers have the size c·H·W·bytes and live at their step;
 * - every buffer lies inside the arena and no two buffers live at the same
 *   step overlap in bytes (aliases excepted, which must lie inside their owner);
 * - peakBytes is the largest sum of live buffer bytes.
 * Throws PlanVerificationError naming what is wrong (for overlaps, both buffers).
 */
import { detectBlocks, chunkScratchBytes, chunksFor, type InvertedResidualBlock } from './blocks.js';
import type { Graph } from './ir.js';
import { tensorBytes } from './ir.js';
import { aliasesInput, mayWriteInPlace } from './aliasing.js';
import type { Plan, PlannedBuffer } from './plan.js';
import { liveBytesPerStep } from './lifetimes.js';
import { verifyStreamStep } from './stream/verify_stream.js';

export class PlanVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanVerificationError';
  }
}

function fail(plan: Plan, message: string): never {
  throw new PlanVerificationError(`plan for '${plan.graphName}': ${message}`);
}

export function verifyPlan(graph: Graph, plan: Plan): void {
  const S = plan.steps.length;
  const blocksByExpand = new Map<number, InvertedResidualBlock>();
  for (const b of detectBlocks(graph)) blocksByExpand.set(b.expand, b);
  const stepOfOp = new Int32Array(graph.ops.length).fill(-1);
  const internal = new Set<number>();
  const scratchUse = new Map<number, { step: number; bytes: number; what: string }>();
  const ringBuffers = new Set<number>();
  plan.steps.forEach((st, i) => {
    const ops: number[] = [];
    if (st.kind === 'op') {
      ops.push(st.op);
    } else if (st.kind === 'stream') {
      const c = verifyStreamStep(graph, plan, st, i, (m) => fail(plan, m));
      for (const [idx, what] of c.scratch) {
        if (scratchUse.has(idx)) fail(plan, `buffer ${idx} is the scratch of two steps`);
        scratchUse.set(idx, { step: i, bytes: plan.buffers[idx]!.bytes, what });
      }
      for (const idx of c.rings.keys()) ringBuffers.add(idx);
      for (const t of c.internal) internal.add(t);
      ops.push(...c.ops);
    } else {
      const b = blocksByExpand.get(st.expand);
      if (!b || b.depthwise !== st.depthwise || b.project !== st.project || b.add !== st.add) {
        fail(
          plan,
          `step ${i} is a block (expand ${st.expand}, depthwise ${st.depthwise}, project ${st.project}, add ${st.add}) that is not an inverted residual block of the graph`,
        );
      }
      if (!(Number.isInteger(st.chunkChannels) && st.chunkChannels >= 1 && st.chunkChannels <= b.expandedChannels))
        fail(plan, `block '${b.name}' has ${st.chunkChannels} channels per chunk (1..${b.expandedChannels})`);
      if (st.chunks !== chunksFor(b, st.chunkChannels))
        fail(
          plan,
          `block '${b.name}' says ${st.chunks} chunks of ${st.chunkChannels} channels for ${b.expandedChannels} channels`,
        );
      const sc = chunkScratchBytes(b, st.chunkChannels);
      for (const [idx, bytes, what] of [
        [st.expandBuffer, sc.expand, 'expand'],
        [st.depthwiseBuffer, sc.depthwise, 'depthwise'],
      ] as const) {
        if (scratchUse.has(idx)) fail(plan, `buffer ${idx} is the scratch of two block steps`);
        scratchUse.set(idx, { step: i, bytes, what: `${b.name} ${what} chunk` });
      }
      for (const t of b.internal) internal.add(t);
      ops.push(...[b.expand, b.depthwise, b.project, b.add].filter((o) => o >= 0));
    }
    for (const op of ops) {
      if (!graph.ops[op]) fail(plan, `step ${i} runs missing op ${op}`);
      if (stepOfOp[op] !== -1) fail(plan, `op '${graph.ops[op]!.name}' runs at steps ${stepOfOp[op]} and ${i}`);
      stepOfOp[op] = i;
    }
  });
  graph.ops.forEach((op) => {
    if (stepOfOp[op.id] === -1) fail(plan, `op '${op.name}' (${op.kind}) is never run`);
  });
  // Inputs before readers.
  graph.ops.forEach((op) => {
    for (const x of op.inputs) {
      const p = graph.tensors[x]!.producer;
      if (p >= 0 && stepOfOp[p]! > stepOfOp[op.id]!)
        fail(
          plan,
          `op '${op.name}' at step ${stepOfOp[op.id]} reads '${graph.tensors[x]!.name}' written at step ${stepOfOp[p]}`,
        );
      if (p >= 0 && stepOfOp[p] === stepOfOp[op.id] && !internal.has(x))
        fail(plan, `op '${op.name}' reads '${graph.tensors[x]!.name}' written in the same step`);
    }
  });

  // Exact lifetimes of materialized tensors.
  const outputs = new Set(graph.outputs);
  const inputs = new Set(graph.inputs);
  const life = new Map<number, [number, number]>();
  graph.tensors.forEach((t) => {
    if (t.constant || internal.has(t.id) || (t.producer < 0 && !inputs.has(t.id))) return;
    const f = t.producer < 0 ? 0 : stepOfOp[t.producer]!;
    let l = f;
    for (const c of t.consumers) l = Math.max(l, stepOfOp[c]!);
    if (outputs.has(t.id)) l = S - 1;
    life.set(t.id, [f, l]);
  });
  const bufOfTensor = new Map<number, number>();
  plan.buffers.forEach((b, i) => {
    if (!Number.isInteger(b.offset) || b.offset < 0 || b.offset + b.bytes > plan.arenaBytes) {
      fail(
        plan,
        `buffer '${b.name}' at [${b.offset}, ${b.offset + b.bytes}) lies outside the arena of ${plan.arenaBytes} bytes`,
      );
    }
    if (b.firstStep < 0 || b.lastStep >= S || b.firstStep > b.lastStep)
      fail(plan, `buffer '${b.name}' has steps ${b.firstStep}..${b.lastStep} (plan has ${S})`);
    if (b.ring) {
      if (!ringBuffers.has(i)) fail(plan, `ring '${b.name}' is not the input of any streamed stage`);
      return;
    }
    if (b.tensor < 0) {
      const use = scratchUse.get(i);
      if (!use) fail(plan, `buffer '${b.name}' (no tensor) is not the scratch of any block step`);
      if (b.bytes !== use.bytes || b.firstStep !== use.step || b.lastStep !== use.step) {
        fail(
          plan,
          `buffer '${b.name}' (${use.what}) has ${b.bytes} bytes at steps ${b.firstStep}..${b.lastStep}; expected ${use.bytes} bytes at step ${use.step}`,
        );
      }
      return;
    }
    const t = graph.tensors[b.tensor];
    if (!t) fail(plan, `buffer '${b.name}' holds missing tensor ${b.tensor}`);
    if (!life.has(b.tensor))
      fail(
        plan,
        `buffer '${b.name}' holds '${t.name}', which is ${t.constant ? 'a constant' : 'never materialized in this plan'}`,
      );
    if (bufOfTensor.has(b.tensor)) fail(plan, `tensor '${t.name}' has two buffers`);
    bufOfTensor.set(b.tensor, i);
    if (b.bytes !== tensorBytes(t))
      fail(plan, `buffer '${b.name}' has ${b.bytes} bytes; tensor '${t.name}' needs ${tensorBytes(t)}`);
    if (plan.tensorOffsets.get(b.tensor) !== b.offset)
      fail(
        plan,
        `tensorOffsets gives '${t.name}' offset ${plan.tensorOffsets.get(b.tensor)}, its buffer says ${b.offset}`,
      );
  });
  for (const [t] of life)
    if (!bufOfTensor.has(t)) fail(plan, `tensor '${graph.tensors[t]!.name}' is materialized but has no buffer`);
  for (const [idx] of scratchUse)
    if (!plan.buffers[idx] || plan.buffers[idx]!.tensor !== -1)
      fail(plan, `block scratch buffer ${idx} is missing or holds a tensor`);

  // Groups: owners and their aliases.
  const members = new Map<number, number[]>(); // owner tensor → member tensors (owner first)
  plan.buffers.forEach((b) => {
    if (b.tensor < 0 || b.ring) return;
    if (b.aliasOf === undefined) {
      if (!members.has(b.tensor)) members.set(b.tensor, []);
      members.get(b.tensor)!.unshift(b.tensor);
    }
  });
  plan.buffers.forEach((b) => {
    if (b.aliasOf === undefined) return;
    const owner = bufOfTensor.get(b.aliasOf);
    if (owner === undefined || plan.buffers[owner]!.aliasOf !== undefined)
      fail(plan, `buffer '${b.name}' aliases tensor ${b.aliasOf}, which owns no buffer`);
    const ob = plan.buffers[owner]!;
    if (b.offset !== ob.offset || b.bytes > ob.bytes)
      fail(plan, `alias '${b.name}' [${b.offset}, ${b.offset + b.bytes}) is not inside its owner '${ob.name}'`);
    members.get(b.aliasOf)!.push(b.tensor);
  });
  const groupOf = new Map<number, number>();
  for (const [owner, ms] of members) for (const m of ms) groupOf.set(m, owner);
  for (const [owner, ms] of members) {
    let f = Infinity;
    let l = -Infinity;
    for (const m of ms) {
      const [a, z] = life.get(m)!;
      f = Math.min(f, a);
      l = Math.max(l, z);
      const b = plan.buffers[bufOfTensor.get(m)!]!;
      if (m !== owner && (b.firstStep !== a || b.lastStep !== z))
        fail(
          plan,
          `alias '${b.name}' lives at steps ${b.firstStep}..${b.lastStep}; '${graph.tensors[m]!.name}' is live at ${a}..${z}`,
        );
      if (m === owner) continue;
      // Legal sharing: a reshape of a group member, or an add writing over a member that dies there.
      const op = graph.ops[graph.tensors[m]!.producer]!;
      if (!op) fail(plan, `'${graph.tensors[m]!.name}' shares memory but is a graph input`);
      const fromGroup = op.inputs.filter((x) => groupOf.get(x) === owner);
      if (aliasesInput(op) && fromGroup.length > 0) continue;
      if (mayWriteInPlace(op) && fromGroup.length > 0) {
        const s = stepOfOp[op.id]!;
        for (const other of ms) {
          if (other === m) continue;
          const [a2, z2] = life.get(other)!;
          if (a2 <= s && z2 > s)
            fail(
              plan,
              `'${op.name}' writes in place over '${graph.tensors[other]!.name}', which is still needed until step ${z2}`,
            );
        }
        continue;
      }
      fail(
        plan,
        `'${graph.tensors[m]!.name}' (written by ${op.kind} '${op.name}') shares the memory of '${graph.tensors[owner]!.name}', which that op may not do`,
      );
    }
    const ob = plan.buffers[bufOfTensor.get(owner)!]!;
    if (ob.firstStep !== f || ob.lastStep !== l)
      fail(
        plan,
        `buffer '${ob.name}' lives at steps ${ob.firstStep}..${ob.lastStep}; its tensors are live at ${f}..${l}`,
      );
  }

  // No two physical buffers live at the same step share a byte.
  const phys: [PlannedBuffer, number][] = [];
  plan.buffers.forEach((b, i) => {
    if (b.aliasOf === undefined && b.bytes > 0) phys.push([b, i]);
  });
  phys.sort((a, b) => a[0].firstStep - b[0].firstStep || a[1] - b[1]);
  for (let x = 0; x < phys.length; x++) {
    const [a] = phys[x]!;
    for (let y = x + 1; y < phys.length; y++) {
      const [b] = phys[y]!;
      if (b.firstStep > a.lastStep) break;
      if (a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes) {
        const s = Math.max(a.firstStep, b.firstStep);
        fail(
          plan,
          `buffers '${a.name}' [${a.offset}, ${a.offset + a.bytes}) and '${b.name}' [${b.offset}, ${b.offset + b.bytes}) overlap in bytes while both live at step ${s}`,
        );
      }
    }
  }
  const peak = Math.max(0, ...liveBytesPerStep(plan.buffers, S));
  if (peak !== plan.peakBytes) fail(plan, `peakBytes is ${plan.peakBytes} but the buffers give ${peak}`);
}
