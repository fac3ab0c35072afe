/**
 * Byte-exact write check for lowered integer programs: runs the plan's steps one by one
 * and, after each, compares the whole arena with its state before the step. Every changed
 * byte must lie in a buffer the plan gives that step to write (range_guard.ts stepRegions).
 * This checks what the kernels really write, not what the manifest says they write.
 */
import type { Plan } from '../../planner/plan.js';
import type { LoadedModel } from '../../src/model.js';
import { lowerPlanQ8 } from '../../src/executor/lower.js';
import { WeightsImage } from '../../src/executor/lower.js';
import { layoutMemory } from '../../src/executor/layout.js';
import { stepRegions } from '../../src/executor/range_guard.js';
import { bindKernels, instantiateKernels, KERNEL_RESERVED_BYTES } from '../../src/kernels/index.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

export async function strayWrites(model: LoadedModel, plan: Plan, input: Uint8Array | Int8Array): Promise<string[]> {
  const layout = layoutMemory(KERNEL_RESERVED_BYTES, lowerPlanQ8(model, plan).weights.bytes, plan.arenaBytes);
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages });
  const k = instantiateKernels(await loadKernels({}), memory);
  const target = { mem: new Uint8Array(memory.buffer), base: layout.weightsBase, limit: layout.weightsBytes };
  const program = lowerPlanQ8(model, plan, new WeightsImage(target));
  const inT = model.graph.tensors[model.graph.inputs[0]!]!;
  const calls = program.bind({
    k,
    b: bindKernels(k),
    weight: (rel) => layout.weightsBase + rel,
    tensor: (id) => layout.arenaBase + plan.tensorOffsets.get(id)!,
    buffer: (i) => layout.arenaBase + plan.buffers[i]!.offset,
    inputRow: (r, at) => {
      const row = input.length / inT.shape[1]!;
      new Uint8Array(memory.buffer).set(new Uint8Array(input.buffer, input.byteOffset + r * row, row), at);
    },
  });
  const regions = stepRegions(model.graph, plan, layout.arenaBase, [
    layout.weightsBase,
    layout.weightsBase + layout.weightsBytes,
  ]);
  const mem = new Uint8Array(memory.buffer);
  mem.fill(0xa5, layout.arenaBase, layout.arenaBase + layout.arenaBytes);
  // A streamed plan reads the input row by row from outside the arena (inputRow above).
  const inAt = plan.tensorOffsets.get(model.graph.inputs[0]!);
  if (inAt !== undefined)
    mem.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), layout.arenaBase + inAt);
  const problems: string[] = [];
  const lo = layout.arenaBase;
  const hi = memory.buffer.byteLength;
  for (let i = 0; i < calls.length; i++) {
    const before = mem.slice(lo, hi);
    calls[i]!();
    const writes = regions[i]!.writes;
    for (let a = lo; a < hi; a++) {
      if (mem[a] === before[a - lo]) continue;
      if (writes.some(([s, e]) => a >= s && a < e)) continue;
      const s = plan.steps[i]!;
      problems.push(
        `step ${i} (${s.kind === 'op' ? model.graph.ops[s.op]!.name : s.kind === 'block' ? `block ${model.graph.ops[s.expand]!.name}` : 'stream'}) wrote arena byte ${a - lo} outside its buffers`,
      );
      break;
    }
  }
  return problems;
}
