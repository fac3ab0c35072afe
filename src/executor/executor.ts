/**
 * Executor: runs a plan in one WebAssembly memory laid out as
 * [module data | packed weights | activation arena], sized exactly for that
 * plan before any weight is written. The arena offsets are the planner's.
 */
import { tensorBytes, tensorElements } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';
import type { LoadedModel } from '../model.js';
import { verifyPlan } from '../../planner/verify.js';
import { instantiateKernels, KERNEL_RESERVED_BYTES, loadKernels, withRangeChecks, type Kernels } from '../kernels/index.js';
import { rangeChecker, stepRegions } from './range_guard.js';
import { CANARY_BYTES, highWater, paint } from './canary.js';
import { layoutMemory, type MemoryLayout } from './layout.js';
import { lowerPlan, type Call } from './lower.js';

export interface ExecutorOptions {
  /**
   * Debug mode: the debug WASM build (kernel assertions on), and every kernel
   * call checked against the buffers its plan step owns before it runs.
   */
  debug?: boolean;
  /** Paint the arena before each run and measure the highest byte written (cheap; on by default). */
  measure?: boolean;
}

export interface MemoryReport {
  /** Bytes of packed weights in the weights region. */
  weightsBytes: number;
  /** Size of the activation arena this executor created (= the plan's arena). */
  arenaBytes: number;
  /** The planner's peak of live bytes for this schedule. */
  plannedPeakBytes: number;
  /** Highest arena byte written by any run so far (canary scan), or -1 when not measured. */
  measuredPeakBytes: number;
  /** Size of the WebAssembly memory. */
  wasmMemoryBytes: number;
  /** Bytes at the bottom of memory used by the WASM module itself. */
  reservedBytes: number;
}

/** A graph output as the arena holds it: float32, or int32 (arg-max class ids). */
export type OutputData = Float32Array | Int32Array;

export interface RunResult {
  /** Values of the first graph output as float32 (int32 outputs converted exactly). */
  output: Float32Array;
  /** Copies of every graph output, in graph order, in the dtype the arena holds. */
  outputs: OutputData[];
  latencyMs: number;
}

export class ArenaTooSmallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArenaTooSmallError';
  }
}

export class Executor {
  private measuredPeak = -1;
  private runs = 0;
  /** Step being run (debug mode reads it to check kernel ranges). */
  private step = -1;

  private constructor(
    readonly model: LoadedModel,
    readonly plan: Plan,
    private readonly memory: WebAssembly.Memory,
    private readonly layout: MemoryLayout,
    private readonly calls: Call[],
    private readonly measure: boolean,
    private readonly debug: boolean,
  ) {}

  static async create(model: LoadedModel, plan: Plan, options: ExecutorOptions = {}): Promise<Executor> {
    checkPlanFits(model, plan);
    verifyPlan(model.graph, plan);
    const debug = options.debug ?? false;
    const program = lowerPlan(model, plan);
    const layout = layoutMemory(KERNEL_RESERVED_BYTES, program.weights.bytes, plan.arenaBytes);
    const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages });
    let kernels: Kernels = instantiateKernels(await loadKernels({ debug }), memory);
    program.weights.writeTo(new Uint8Array(memory.buffer), layout.weightsBase);
    let self: Executor | undefined;
    if (debug) {
      const regions = stepRegions(model.graph, plan, layout.arenaBase, [layout.weightsBase, layout.weightsBase + layout.weightsBytes]);
      const stepName = (i: number) => {
        const s = plan.steps[i]!;
        return s.kind === 'op' ? model.graph.ops[s.op]!.name : `block ${model.graph.ops[s.expand]!.name}..${model.graph.ops[s.project]!.name}`;
      };
      kernels = withRangeChecks(kernels, rangeChecker(regions, () => self!.step, stepName));
    }
    const offsets = plan.tensorOffsets;
    const calls = program.bind({
      k: kernels,
      weight: (rel) => layout.weightsBase + rel,
      tensor: (id) => {
        const off = offsets.get(id);
        if (off === undefined) throw new Error(`plan has no buffer for tensor '${model.graph.tensors[id]?.name ?? id}'`);
        return layout.arenaBase + off;
      },
      buffer: (i) => {
        const b = plan.buffers[i];
        if (!b) throw new Error(`plan has no buffer #${i}`);
        return layout.arenaBase + b.offset;
      },
    });
    self = new Executor(model, plan, memory, layout, calls, options.measure ?? true, debug);
    return self;
  }

  /** Runs the network on float32 input values (already normalized) and returns the first output. */
  runFloat(input: Float32Array): RunResult {
    const inId = this.model.graph.inputs[0]!;
    const inT = this.model.graph.tensors[inId]!;
    if (input.length !== tensorElements(inT)) throw new Error(`input has ${input.length} values; '${inT.name}' needs ${tensorElements(inT)} [${inT.shape.join(',')}]`);
    const mem = new Uint8Array(this.memory.buffer);
    const canary = CANARY_BYTES[this.runs % CANARY_BYTES.length]!;
    if (this.measure) paint(mem, this.layout.arenaBase, this.layout.arenaBytes, canary);
    const t0 = performance.now();
    new Float32Array(this.memory.buffer, this.layout.arenaBase + this.plan.tensorOffsets.get(inId)!, input.length).set(input);
    if (this.debug) {
      for (let i = 0; i < this.calls.length; i++) {
        this.step = i;
        this.calls[i]!();
      }
      this.step = -1;
    } else {
      for (let i = 0; i < this.calls.length; i++) this.calls[i]!();
    }
    const outputs = this.model.graph.outputs.map((id) => this.readOutput(id));
    const first = outputs[0]!;
    const output = first instanceof Float32Array ? first : Float32Array.from(first);
    const latencyMs = performance.now() - t0;
    if (this.measure) this.measuredPeak = Math.max(this.measuredPeak, highWater(mem, this.layout.arenaBase, this.layout.arenaBytes, canary));
    this.runs++;
    return { output, outputs, latencyMs };
  }

  /** Copy of an output tensor. Arg-max outputs hold int32 class ids (the kernel's type, whatever width the file declared). */
  private readOutput(id: number): OutputData {
    const t = this.model.graph.tensors[id]!;
    const at = this.layout.arenaBase + this.plan.tensorOffsets.get(id)!;
    const n = tensorElements(t);
    if (t.dtype === 'f32') return new Float32Array(this.memory.buffer, at, n).slice();
    if (t.dtype === 'i32') return new Int32Array(this.memory.buffer, at, n).slice();
    throw new Error(`output '${t.name}' is ${t.dtype}; the float executor returns f32 and i32 outputs`);
  }

  /** Runs on RGB uint8 pixels (model input size), normalizing them as the model expects. */
  runPixels(pixels: Uint8Array): RunResult {
    return this.runFloat(normalizePixels(this.model, pixels));
  }

  memoryReport(): MemoryReport {
    return {
      weightsBytes: this.layout.weightsBytes,
      arenaBytes: this.layout.arenaBytes,
      plannedPeakBytes: this.plan.peakBytes,
      measuredPeakBytes: this.measuredPeak,
      wasmMemoryBytes: this.memory.buffer.byteLength,
      reservedBytes: this.layout.reservedBytes,
    };
  }
}

/** Float input values from RGB bytes: scale·(p − zeroPoint) for quantized inputs, p·scale + offset otherwise. */
export function normalizePixels(model: LoadedModel, pixels: Uint8Array): Float32Array {
  const n = model.input;
  const want = n.height * n.width * n.channels;
  if (pixels.length !== want) throw new Error(`expected ${n.width}x${n.height}x${n.channels} = ${want} input bytes, got ${pixels.length}`);
  const out = new Float32Array(want);
  const norm = n.normalization;
  const scale = norm.scale;
  const offset = norm.kind === 'quantized' ? -norm.zeroPoint * norm.scale : norm.offset;
  for (let i = 0; i < want; i++) out[i] = norm.kind === 'quantized' ? scale * (pixels[i]! - norm.zeroPoint) : pixels[i]! * scale + offset;
  return out;
}

/**
 * Refuses a plan whose arena cannot hold what it places, before any memory is
 * created: every buffer must lie inside the arena and be big enough for its tensor.
 */
function checkPlanFits(model: LoadedModel, plan: Plan): void {
  for (const b of plan.buffers) {
    if (b.offset < 0 || b.offset + b.bytes > plan.arenaBytes) {
      throw new ArenaTooSmallError(`plan arena of ${plan.arenaBytes} bytes cannot hold buffer '${b.name}' at [${b.offset}, ${b.offset + b.bytes})`);
    }
    if (b.tensor >= 0) {
      const need = tensorBytes({ ...model.graph.tensors[b.tensor]!, dtype: 'f32' });
      if (b.bytes < need && b.aliasOf === undefined) throw new ArenaTooSmallError(`plan buffer '${b.name}' has ${b.bytes} bytes; tensor needs ${need}`);
    }
  }
}
