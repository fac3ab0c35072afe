/**
 * Executor: runs a plan in one WebAssembly memory laid out as
 * [module data | packed weights | activation arena], sized exactly for that
 * plan before any weight is written. The arena offsets are the planner's.
 */
import { describeShape, tensorBytes, tensorElements } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';
import type { LoadedModel } from '../model.js';
import { verifyPlan } from '../../planner/verify.js';
import {
  bindKernels,
  instantiateKernels,
  kernelModuleBytes,
  KERNEL_RESERVED_BYTES,
  withRangeChecks,
  type Kernels,
} from '../kernels/index.js';
import { rangeChecker, stepRegions } from './range_guard.js';
import { CANARY_BYTES, highWater, paint } from './canary.js';
import { layoutMemory, type MemoryLayout } from './layout.js';
import {
  describeStep,
  isIntegerGraph,
  lowerPlan,
  lowerPlanQ8,
  WeightsImage,
  type BindContext,
  type Call,
  type Q8BlockLowering,
  type Q8LoweredProgram,
} from './lower.js';
import { ModelError } from '../errors.js';
import { RowResizer } from '../preprocess/resize.js';
import { largestBlockScratch, threadScratchAt, threadScratchBytes, threadsRefusal } from '../../planner/threads.js';
import { alignUp } from './layout.js';
import { recordingKernels, type ThreadJob, type ThreadPool, type ThreadsOption } from './threads.js';
import { KERNEL_PARAMS } from '../kernels/gen/abi.js';
import { Sha256 } from '../preprocess/sha256.js';
import type { RgbImage } from '../preprocess/pixels.js';

export interface ExecutorOptions {
  /** The compiled kernel module (Node: kernels/node_loader.ts loadKernels; elsewhere compileKernels). */
  kernels: WebAssembly.Module;
  /**
   * Debug mode: the debug WASM build (kernel assertions on), and every kernel
   * call checked against the buffers its plan step owns before it runs.
   */
  debug?: boolean;
  /** Paint the arena before each run and measure the highest byte written (cheap; on by default). */
  measure?: boolean;
  /**
   * Split each inference across this many threads (count > 1): `kernels` must then be the
   * threads build (build/lowwater.threads.wasm), and `start` starts the extra threads
   * (Node: startNodeThreads, executor/node_threads.ts). Whole-tensor plans only.
   */
  threads?: ThreadsOption;
}

/** Everything a loaded model holds, not only its arena. */
export interface Footprint {
  /** The WebAssembly memory: module data, packed weights, arena. */
  wasmMemoryBytes: number;
  /** Packed weights inside it. */
  weightsBytes: number;
  /** ArrayBuffers the runtime keeps outside it (the model's bytes or constants when not released). */
  jsRetainedBytes: number;
  /** Size of the kernel module's .wasm file (-1 when it was given already compiled). */
  kernelModuleBytes: number;
}

export interface MemoryReport {
  /** Bytes of packed weights in the weights region. */
  weightsBytes: number;
  /**
   * Size of the activation arena this executor created: the plan's arena, and with
   * threads > 1 each extra thread's region after it (`threads.extraBytes`).
   */
  arenaBytes: number;
  /** Threads one inference runs on, and what the threads beyond the first add to the arena. */
  threads: ThreadsMemory;
  /** The planner's peak of live bytes for this schedule. */
  plannedPeakBytes: number;
  /** Highest arena byte written by any run so far (canary scan), or -1 when not measured. */
  measuredPeakBytes: number;
  /** Size of the WebAssembly memory. */
  wasmMemoryBytes: number;
  /** Bytes at the bottom of memory used by the WASM module itself. */
  reservedBytes: number;
  /**
   * Bytes of the caller's input the last run read from outside the arena: the decoded
   * image (or the input array given). A streamed plan never copies the input into the
   * arena: it reads it row by row from there, so a camera or decoder must hold it.
   */
  inputOutsideArenaBytes: number;
  footprint: Footprint;
}

export interface ThreadsMemory {
  /** Threads one inference is split across (1: none). */
  count: number;
  /** Arena bytes the extra threads add (count − 1 regions after the plan's arena; 0 with one thread). */
  extraBytes: number;
  /** One extra thread's region: its chunk scratch, and its copy of the kernels' static argument structs. */
  perThreadBytes: number;
  /** Of which chunk scratch: room for the expanded-chunk and depthwise-chunk buffers of the block that needs the most. */
  perThreadScratchBytes: number;
  /** The largest chunk scratch of one block (expanded + depthwise buffers), to compare the growth with. */
  largestBlockScratchBytes: number;
}

/** A graph output as the arena holds it: float32, int32 (arg-max class ids), or quantized bytes. */
export type OutputData = Float32Array | Int32Array | Uint8Array | Int8Array;

export interface RunResult {
  /**
   * Copy of the first graph output: float32 values on the float path (int32
   * outputs converted exactly); on the integer path its raw quantized bytes
   * (real value = scale · (q − zero point) of the tensor); class ids of an arg-max as the arena
   * holds them (bytes, or int32; int64 ids read as int32).
   */
  output: Float32Array | Uint8Array | Int8Array | Int32Array;
  /** Copies of every graph output, in graph order, in the dtype the arena holds. */
  outputs: OutputData[];
  latencyMs: number;
}

/** A run of the float path. */
export interface FloatRunResult extends RunResult {
  output: Float32Array;
}

/** A run of the integer path. */
export interface QuantizedRunResult extends RunResult {
  output: Uint8Array | Int8Array | Int32Array;
}

export class ArenaTooSmallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArenaTooSmallError';
  }
}

/** Writes row r of the network input at an arena address (a streamed run's source). */
type RowSource = (r: number, at: number) => void;

export class Executor {
  private measuredPeak = -1;
  private closed = false;
  private runs = 0;
  /** Step being run (debug mode reads it to check kernel ranges). */
  private step = -1;
  /** The current run's input rows, for a plan that streams from the caller's image. */
  private source: RowSource | undefined;
  private inputOutsideArena = 0;
  /** The plan reads the network input row by row from the caller (a streamed step from the image). */
  readonly streamsInput: boolean;
  /** Where a profiled run (runPixelsTimed) writes each step's time; undefined on ordinary runs. */
  private stepTimes: Float64Array | undefined;

  private constructor(
    readonly model: LoadedModel,
    readonly plan: Plan,
    private readonly memory: WebAssembly.Memory,
    private readonly layout: MemoryLayout,
    private readonly calls: Call[],
    private readonly measure: boolean,
    private readonly debug: boolean,
    /** The graph runs on the q8 kernels (quantized tensors as imported). */
    readonly integer: boolean,
    private readonly kernelModuleBytes: number,
    /** The tiles lowering chose for each fused integer block (profiles count their recomputed halos); empty on the float path. */
    readonly q8Blocks: readonly Q8BlockLowering[],
    private readonly threadsMemory: ThreadsMemory,
    private readonly pool: ThreadPool | undefined,
  ) {
    this.streamsInput = plan.steps.some((s) => s.kind === 'stream' && s.externalInput);
  }

  /** Plan steps, one kernel call each. */
  get stepCount(): number {
    return this.calls.length;
  }

  static async create(model: LoadedModel, plan: Plan, options: ExecutorOptions): Promise<Executor> {
    const integer = isIntegerGraph(model.graph);
    checkPlanFits(model, plan, integer);
    verifyPlan(model.graph, plan);
    const debug = options.debug ?? false;
    const threads = options.threads?.count ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a whole number ≥ 1, got ${options.threads?.count}`);
    if (threads > 1) {
      const why = threadsRefusal(plan);
      if (why) throw new ModelError(model.source, `plan of ${plan.steps.length} steps`, `${threads} threads: ${why}`);
      if (debug)
        throw new ModelError(
          model.source,
          'debug mode',
          `${threads} threads: the debug kernels check each call on one thread; run debug with threads 1`,
        );
      if (!WebAssembly.Module.exports(options.kernels).some((e) => e.name === 'kernel_thread_init'))
        throw new Error(
          `threads ${threads}: the kernel module given is not the threads build (build/lowwater.threads.wasm, loadThreadKernels)`,
        );
    }
    const lower = (weights?: WeightsImage) =>
      integer ? lowerPlanQ8(model, plan, weights, threads) : lowerPlan(model, plan, weights, threads);
    // Each extra thread's region after the plan's arena: a copy of the kernels' static argument
    // structs (the first KERNEL_RESERVED_BYTES of memory) and its own chunk scratch.
    const scratchBytes = threadScratchBytes(plan);
    const perThread = threads > 1 ? alignUp(KERNEL_RESERVED_BYTES) + scratchBytes : 0;
    const planArena = alignUp(plan.arenaBytes);
    const extraBytes = (threads - 1) * perThread;
    // Phase 1: the weights' packed size, from a lowering that keeps nothing; the memory gets its final size.
    const weightsBytes = lower().weights.bytes;
    const layout = layoutMemory(
      KERNEL_RESERVED_BYTES,
      weightsBytes,
      threads > 1 ? planArena + extraBytes : plan.arenaBytes,
    );
    const memory = new WebAssembly.Memory({
      initial: layout.pages,
      maximum: layout.pages,
      ...(threads > 1 ? { shared: true } : {}),
    });
    const region = (t: number) => layout.arenaBase + planArena + (t - 1) * perThread;
    let kernels: Kernels = instantiateKernels(options.kernels, memory);
    // Phase 2: each constant is read from the model, packed and copied into place, one at a time.
    const target = { mem: new Uint8Array(memory.buffer), base: layout.weightsBase, limit: layout.weightsBytes };
    const program = lower(new WeightsImage(target));
    if (program.weights.bytes !== weightsBytes)
      throw new Error(`lowering packed ${program.weights.bytes} bytes of weights, then ${weightsBytes}`);
    let self: Executor | undefined;
    if (debug) {
      const regions = stepRegions(model.graph, plan, layout.arenaBase, [
        layout.weightsBase,
        layout.weightsBase + layout.weightsBytes,
      ]);
      const stepName = (i: number) => {
        const s = plan.steps[i]!;
        return s.kind === 'op'
          ? model.graph.ops[s.op]!.name
          : s.kind === 'stream'
            ? describeStep(model.graph, s)
            : `block ${model.graph.ops[s.expand]!.name}..${model.graph.ops[s.project]!.name}`;
      };
      kernels = withRangeChecks(
        kernels,
        rangeChecker(regions, () => self!.step, stepName),
      );
    }
    const offsets = plan.tensorOffsets;
    const context = (k: Kernels): BindContext => ({
      k,
      b: bindKernels(k),
      weight: (rel) => layout.weightsBase + rel,
      tensor: (id) => {
        const off = offsets.get(id);
        if (off === undefined)
          throw new Error(`plan has no buffer for tensor '${model.graph.tensors[id]?.name ?? id}'`);
        return layout.arenaBase + off;
      },
      buffer: (i) => {
        const b = plan.buffers[i];
        if (!b) throw new Error(`plan has no buffer #${i}`);
        return layout.arenaBase + b.offset;
      },
      inputRow: (r, at) => {
        const source = self!.source;
        if (!source) throw new Error('a streamed step asked for an input row outside a run');
        source(r, at);
      },
      threadScratch: (t, expandBytes) => {
        if (!(t >= 1 && t < threads)) throw new Error(`no scratch for thread ${t} of ${threads}`);
        const base = region(t) + alignUp(KERNEL_RESERVED_BYTES);
        const at = threadScratchAt(expandBytes);
        return { e: base + at.e, d: base + at.d };
      },
    });
    let calls = program.bind(context(kernels));
    let pool: ThreadPool | undefined;
    if (threads > 1) {
      // A split step has one piece per thread, claimed by whichever thread comes first: this
      // thread runs its binding of each piece (thread 0's scratch); each other thread's
      // bindings are recorded once here (kernel calls with fixed arguments) and replayed there.
      const pieces = Array.from({ length: threads }, (_, p) => program.bindPart(context(kernels), p, 0));
      const jobs: (ThreadJob[][] | null)[][] = [];
      for (let t = 1; t < threads; t++) {
        const recorded: ThreadJob[][] = [];
        const rec = recordingKernels<Kernels>(Object.keys(KERNEL_PARAMS), recorded);
        const bound = Array.from({ length: threads }, (_, p) => program.bindPart(context(rec), p, t));
        jobs.push(
          plan.steps.map((_, i) => {
            if (!bound[0]![i]) return null;
            return bound.map((calls) => {
              recorded.push([]);
              calls[i]!();
              return recorded[recorded.length - 1]!;
            });
          }),
        );
      }
      pool = await options.threads!.start({
        module: options.kernels,
        memory,
        argsShift: Array.from({ length: threads - 1 }, (_, w) => region(w + 1)),
        jobs,
      });
      const p = pool;
      calls = calls.map((whole, i) => {
        if (!pieces[0]![i]) return whole;
        const own = pieces.map((calls) => calls[i]!);
        return () => p.run(i, own);
      });
    }
    self = new Executor(
      model,
      plan,
      memory,
      layout,
      calls,
      options.measure ?? true,
      debug,
      integer,
      kernelModuleBytes(options.kernels) ?? -1,
      (program as Partial<Q8LoweredProgram>).blocks ?? [],
      {
        count: threads,
        extraBytes: threads > 1 ? layout.arenaBytes - plan.arenaBytes : 0,
        perThreadBytes: perThread,
        perThreadScratchBytes: threads > 1 ? scratchBytes : 0,
        largestBlockScratchBytes: largestBlockScratch(plan),
      },
      pool,
    );
    return self;
  }

  /** Threads one inference runs on. */
  get threads(): number {
    return this.threadsMemory.count;
  }

  /** Ends the extra threads (an executor with one thread has none); runs after it throw. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }

  /** Runs the network on float32 input values (already normalized) and returns the first output. */
  runFloat(input: Float32Array): FloatRunResult {
    if (this.integer)
      throw new Error(
        `'${this.model.source}' runs on the integer path: give it quantized input bytes (runQuantized or runPixels)`,
      );
    const inId = this.model.graph.inputs[0]!;
    const inT = this.model.graph.tensors[inId]!;
    if (input.length !== tensorElements(inT))
      throw new Error(
        `input has ${input.length} values; '${inT.name}' needs ${tensorElements(inT)} [${inT.shape.join(',')}]`,
      );
    this.inputOutsideArena = input.byteLength;
    const { outputs, latencyMs } = this.streamsInput
      ? this.execute(() => {
          const row = inT.shape[2]! * inT.shape[3]!;
          this.source = (r, at) =>
            new Float32Array(this.memory.buffer, at, row).set(input.subarray(r * row, (r + 1) * row));
        })
      : this.execute(() =>
          new Float32Array(
            this.memory.buffer,
            this.layout.arenaBase + this.plan.tensorOffsets.get(inId)!,
            input.length,
          ).set(input),
        );
    const first = outputs[0]!;
    const output = first instanceof Float32Array ? first : Float32Array.from(first);
    return { output, outputs, latencyMs };
  }

  /**
   * One run: paint the arena (measure mode), write the input, run every step,
   * copy the outputs, scan the canary. `afterStep` sees each step's result.
   */
  private execute(
    writeInput: () => void,
    afterStep?: (step: number) => void,
  ): { outputs: OutputData[]; latencyMs: number } {
    if (this.closed) throw new Error(`'${this.model.source}': this executor's threads were closed`);
    const mem = new Uint8Array(this.memory.buffer);
    const canary = CANARY_BYTES[this.runs % CANARY_BYTES.length]!;
    if (this.measure) paint(mem, this.layout.arenaBase, this.layout.arenaBytes, canary);
    const t0 = performance.now();
    writeInput();
    let i = 0;
    try {
      if (this.debug || afterStep) {
        for (; i < this.calls.length; i++) {
          this.step = i;
          this.calls[i]!();
          afterStep?.(i);
        }
        this.step = -1;
      } else if (this.stepTimes) {
        const times = this.stepTimes;
        for (; i < this.calls.length; i++) {
          const t = performance.now();
          this.calls[i]!();
          times[i] = performance.now() - t;
        }
      } else {
        for (; i < this.calls.length; i++) this.calls[i]!();
      }
    } catch (e) {
      this.step = -1;
      this.source = undefined;
      const step = this.plan.steps[i];
      if (!step || e instanceof ModelError) throw e;
      throw new ModelError(
        this.model.source,
        `step ${i}, ${describeStep(this.model.graph, step)}`,
        (e as Error).message,
      );
    }
    this.source = undefined;
    const outputs = this.model.graph.outputs.map((id) => this.readTensor(id));
    const latencyMs = performance.now() - t0;
    if (this.measure)
      this.measuredPeak = Math.max(
        this.measuredPeak,
        highWater(mem, this.layout.arenaBase, this.layout.arenaBytes, canary),
      );
    this.runs++;
    return { outputs, latencyMs };
  }

  /**
   * Copy of a materialized tensor in its arena dtype. Arg-max outputs hold int32
   * class ids on the float path (the kernel's type, whatever width the file declared).
   */
  private readTensor(id: number): OutputData {
    const t = this.model.graph.tensors[id]!;
    const off = this.plan.tensorOffsets.get(id);
    if (off === undefined) throw new Error(`tensor '${t.name}' is not materialized in this plan`);
    const at = this.layout.arenaBase + off;
    const n = tensorElements(t);
    switch (t.dtype) {
      case 'f32':
        return new Float32Array(this.memory.buffer, at, n).slice();
      case 'i32':
        return new Int32Array(this.memory.buffer, at, n).slice();
      case 'u8':
        return new Uint8Array(this.memory.buffer, at, n).slice();
      case 'i8':
        return new Int8Array(this.memory.buffer, at, n).slice();
      case 'i64': {
        // TFLite's ARG_MAX declares int64 class ids: read as int32 (class ids are small; checked).
        const words = new Int32Array(this.memory.buffer, at, 2 * n);
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const hi = words[2 * i + 1]!,
            lo = words[2 * i]!;
          if (hi !== lo >> 31)
            throw new Error(`tensor '${t.name}' (int64) holds a value outside the int32 range at ${i}`);
          out[i] = lo;
        }
        return out;
      }
      default:
        throw new Error(`tensor '${t.name}' is ${t.dtype}; the executor reads f32, i32, u8 and i8 tensors`);
    }
  }

  /**
   * Runs on RGB uint8 pixels (model input size): normalized as the model expects on the
   * float path; on the integer path the bytes as they are (quantizedPixels), and the
   * output is the raw quantized bytes.
   */
  runPixels(pixels: Uint8Array): RunResult {
    if (this.streamsInput) {
      const n = this.model.input;
      const want = n.height * n.width * n.channels;
      if (pixels.length !== want)
        throw new Error(`expected ${n.width}x${n.height}x${n.channels} = ${want} input bytes, got ${pixels.length}`);
      const rowBytes = n.width * n.channels;
      return this.runRows((r, out) => out.set(pixels.subarray(r * rowBytes, (r + 1) * rowBytes)), pixels.byteLength);
    }
    if (this.integer) return this.runQuantized(quantizedPixels(this.model, pixels));
    return this.runFloat(normalizePixels(this.model, pixels));
  }

  /**
   * Runs on an RGB image at its own size, resized as TensorFlow's half-pixel bilinear
   * (preprocess/resize.ts). A streamed plan resizes each input row when the plan asks for it
   * (the resized image never exists); the input's sha256 comes from those rows.
   */
  runImage(rgb: RgbImage): RunResult & { inputSha256: string } {
    const { width, height } = this.model.input;
    const resizer = new RowResizer(rgb.data, rgb.width, rgb.height, 3, width, height);
    const hash = new Sha256();
    if (!this.streamsInput) {
      const bytes = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) resizer.row(y, bytes.subarray(y * resizer.rowBytes, (y + 1) * resizer.rowBytes));
      const run = this.runPixels(bytes);
      this.inputOutsideArena = rgb.data.byteLength;
      return { ...run, inputSha256: hash.update(bytes).hex() };
    }
    // A stream of two passes asks for every row twice: hash each row once, the first time.
    let hashed = 0;
    const run = this.runRows((r, out) => {
      resizer.row(r, out);
      if (r === hashed) {
        hash.update(out);
        hashed++;
      }
    }, rgb.data.byteLength);
    return { ...run, inputSha256: hash.hex() };
  }

  /**
   * A run whose network input comes row by row from `rgbRow` (RGB bytes of input row r at
   * the model's size), normalized as runPixels does, into the plan's first ring.
   */
  private runRows(rgbRow: (r: number, out: Uint8Array) => void, outsideBytes: number): RunResult {
    const m = this.model;
    const rowBytes = m.input.width * m.input.channels;
    const rgb = new Uint8Array(rowBytes);
    const inT = m.graph.tensors[m.graph.inputs[0]!]!;
    this.inputOutsideArena = outsideBytes;
    let write: (at: number) => void;
    if (this.integer) {
      const shift = pixelShift(m);
      write = (at) => {
        const dst = new Uint8Array(this.memory.buffer, at, rowBytes);
        if (shift === 0) dst.set(rgb);
        else for (let i = 0; i < rowBytes; i++) dst[i] = (rgb[i]! - 128) & 0xff;
      };
    } else {
      const norm = m.input.normalization;
      const scale = norm.scale;
      const offset = norm.kind === 'quantized' ? -norm.zeroPoint * norm.scale : norm.offset;
      const quantized = norm.kind === 'quantized';
      const zp = norm.kind === 'quantized' ? norm.zeroPoint : 0;
      write = (at) => {
        const dst = new Float32Array(this.memory.buffer, at, rowBytes);
        for (let i = 0; i < rowBytes; i++) dst[i] = quantized ? scale * (rgb[i]! - zp) : rgb[i]! * scale + offset;
      };
    }
    void inT;
    const { outputs, latencyMs } = this.execute(() => {
      this.source = (r, at) => {
        rgbRow(r, rgb);
        write(at);
      };
    });
    const first = outputs[0]!;
    if (this.integer) {
      if (first instanceof Float32Array) throw new Error('integer path: the first output is not quantized');
      return { output: first, outputs, latencyMs };
    }
    return { output: first instanceof Float32Array ? first : Float32Array.from(first), outputs, latencyMs };
  }

  /**
   * runPixels, with the time of every plan step (performance.now() around its kernel call, in ms)
   * written to `stepMs`. A branch of its own in execute, so ordinary runs time nothing per step.
   */
  runPixelsTimed(pixels: Uint8Array, stepMs: Float64Array): RunResult {
    if (stepMs.length !== this.calls.length)
      throw new RangeError(
        `runPixelsTimed: stepMs has ${stepMs.length} entries; the plan has ${this.calls.length} steps`,
      );
    if (this.debug)
      throw new Error('runPixelsTimed: this executor runs the debug kernels with range checks; time the release build');
    this.stepTimes = stepMs;
    try {
      return this.runPixels(pixels);
    } finally {
      this.stepTimes = undefined;
    }
  }

  /**
   * Integer path: runs on the bytes of the first graph input (its own dtype and
   * quantization) and returns the raw bytes of the first output.
   * `afterStep` (debugging, layer fingerprints) is called after every plan step with a
   * reader of any tensor materialized at that point (its bytes are copied).
   */
  runQuantized(
    input: Uint8Array | Int8Array,
    opts: { afterStep?: (step: number, read: (tensor: number) => Uint8Array | Int8Array) => void } = {},
  ): QuantizedRunResult {
    if (!this.integer) throw new Error(`'${this.model.source}' runs on the float path: use runFloat or runPixels`);
    const g = this.model.graph;
    const inT = g.tensors[g.inputs[0]!]!;
    if (input.length !== tensorElements(inT))
      throw new Error(
        `input has ${input.length} bytes; '${inT.name}' needs ${tensorElements(inT)} ${describeShape(inT.shape)}`,
      );
    const afterStep = opts.afterStep;
    const read = (id: number) => this.readTensor(id) as Uint8Array | Int8Array;
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.length);
    this.inputOutsideArena = input.byteLength;
    const row = inT.shape[2]! * inT.shape[3]!;
    const { outputs, latencyMs } = this.execute(
      this.streamsInput
        ? () => {
            this.source = (r, at) =>
              new Uint8Array(this.memory.buffer, at, row).set(bytes.subarray(r * row, (r + 1) * row));
          }
        : () =>
            new Uint8Array(this.memory.buffer).set(bytes, this.layout.arenaBase + this.plan.tensorOffsets.get(inT.id)!),
      afterStep ? (i) => afterStep(i, read) : undefined,
    );
    const raw = outputs[0]!;
    if (raw instanceof Float32Array)
      throw new Error(`integer path: output '${g.tensors[g.outputs[0]!]!.name}' is not quantized`);
    return { output: raw, outputs, latencyMs };
  }

  memoryReport(): MemoryReport {
    return {
      weightsBytes: this.layout.weightsBytes,
      arenaBytes: this.layout.arenaBytes,
      threads: { ...this.threadsMemory },
      plannedPeakBytes: this.plan.peakBytes,
      measuredPeakBytes: this.measuredPeak,
      wasmMemoryBytes: this.memory.buffer.byteLength,
      reservedBytes: this.layout.reservedBytes,
      inputOutsideArenaBytes: this.inputOutsideArena,
      footprint: {
        wasmMemoryBytes: this.memory.buffer.byteLength,
        weightsBytes: this.layout.weightsBytes,
        jsRetainedBytes: this.model.constants.retainedBytes?.() ?? 0,
        kernelModuleBytes: this.kernelModuleBytes,
      },
    };
  }
}

/** Float input values from RGB bytes: scale·(p − zeroPoint) for quantized inputs, p·scale + offset otherwise. */
export function normalizePixels(model: LoadedModel, pixels: Uint8Array): Float32Array {
  const n = model.input;
  const want = n.height * n.width * n.channels;
  if (pixels.length !== want)
    throw new Error(`expected ${n.width}x${n.height}x${n.channels} = ${want} input bytes, got ${pixels.length}`);
  const out = new Float32Array(want);
  const norm = n.normalization;
  const scale = norm.scale;
  const offset = norm.kind === 'quantized' ? -norm.zeroPoint * norm.scale : norm.offset;
  for (let i = 0; i < want; i++)
    out[i] = norm.kind === 'quantized' ? scale * (pixels[i]! - norm.zeroPoint) : pixels[i]! * scale + offset;
  return out;
}

/** 0 when the integer path takes RGB bytes as they are, 128 when it takes p − 128 (see quantizedPixels). */
function pixelShift(model: LoadedModel): 0 | 128 {
  const probe = quantizedPixels(model, new Uint8Array(model.input.width * model.input.height * model.input.channels));
  return probe instanceof Int8Array ? 128 : 0;
}

/**
 * Integer path input: the RGB bytes as they are for a uint8 input whose quantization is
 * the model's pixel normalization (TFLite uint8 models); an int8 input on the same grid
 * shifted by 128 gets p − 128.
 */
export function quantizedPixels(model: LoadedModel, pixels: Uint8Array): Uint8Array | Int8Array {
  const n = model.input;
  const want = n.height * n.width * n.channels;
  if (pixels.length !== want)
    throw new Error(`expected ${n.width}x${n.height}x${n.channels} = ${want} input bytes, got ${pixels.length}`);
  const inT = model.graph.tensors[model.graph.inputs[0]!]!;
  const norm = n.normalization;
  const q = inT.quant;
  const sameScale = norm.kind === 'quantized' && q && q.scale[0] === norm.scale;
  if (inT.dtype === 'u8' && sameScale && q!.zeroPoint[0] === norm.zeroPoint) return pixels;
  if (inT.dtype === 'i8' && sameScale && q!.zeroPoint[0] === norm.zeroPoint - 128)
    return Int8Array.from(pixels, (p) => p - 128);
  throw new Error(
    `input '${inT.name}' (${inT.dtype}, quantization ${JSON.stringify(q ?? null)}) does not take RGB bytes as they are; run the float path (--float)`,
  );
}

/**
 * Refuses a plan whose arena cannot hold what it places, before any memory is
 * created: every buffer must lie inside the arena and be big enough for its tensor
 * (float path: float32 everywhere; integer path: each tensor's own dtype).
 */
function checkPlanFits(model: LoadedModel, plan: Plan, integer = false): void {
  for (const b of plan.buffers) {
    if (b.offset < 0 || b.offset + b.bytes > plan.arenaBytes) {
      throw new ArenaTooSmallError(
        `plan arena of ${plan.arenaBytes} bytes cannot hold buffer '${b.name}' at [${b.offset}, ${b.offset + b.bytes})`,
      );
    }
    if (b.ring) {
      // A line buffer: whole rows of its tensor (float path: float32 rows).
      const t = model.graph.tensors[b.tensor]!;
      const own = integer ? tensorBytes(t) : tensorBytes({ ...t, dtype: 'f32' });
      const h = t.shape.length === 4 ? t.shape[1]! : 1;
      if (b.ring.rowBytes !== own / h || b.bytes < (b.ring.rows + b.ring.mirrorRows) * b.ring.rowBytes)
        throw new ArenaTooSmallError(
          `plan ring '${b.name}' holds ${b.ring.rows} rows of ${b.ring.rowBytes} bytes in ${b.bytes}; a row of '${t.name}' is ${own / h} bytes`,
        );
    } else if (b.tensor >= 0) {
      const t = model.graph.tensors[b.tensor]!;
      // Float path: float32 everywhere but the class ids of a fused resize + arg-max (their own dtype).
      const own = integer || (t.producer >= 0 && model.graph.ops[t.producer]!.kind === 'resize_argmax');
      const need = tensorBytes(own ? t : { ...t, dtype: 'f32' });
      if (b.bytes < need && b.aliasOf === undefined)
        throw new ArenaTooSmallError(`plan buffer '${b.name}' has ${b.bytes} bytes; tensor needs ${need}`);
    }
  }
}
