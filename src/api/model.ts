/**
 * A loaded, planned model ready to run: the object `loadModel` returns in
 * every runtime. Runtime-neutral: the entries (src/index.ts for Node,
 * src/web.ts for browsers, workers and Deno) bring the kernels and the image
 * decoder; this class plans nothing and reads no file itself.
 */
import { planJson } from '../../planner/report/json.js';
import { describeShape, type Graph } from '../../planner/ir.js';
import type { LoadedModel } from '../model.js';
import { quantizeLike, type RunSetup } from '../run_setup.js';
import type { RunResult } from '../executor/executor.js';
import { resizeBilinearHalfPixel } from '../preprocess/resize.js';
import { sha256Hex, type RgbImage } from '../preprocess/pixels.js';
import { classCounts, classMapFromOutput } from '../segment/class_map.js';
import { detectionsOf, toPixels } from '../detect/run.js';
import { describeNumericPath } from '../segment/numeric_path.js';
import { profileSteps } from '../profile/profile.js';
import type {
  Classification,
  Detections,
  MemoryReport,
  ModelInfo,
  OutputTensor,
  PlanJson,
  Profile,
  ProfileOptions,
  Segmentation,
  TopClass,
} from './types.js';

/** Turns whatever a runtime accepts as an image into RGB at its source size; `name` names it in errors. */
export type ImageDecoder<I> = (image: I) => Promise<RgbImage>;

/** The k largest scores, descending; ties go to the lower index (as TFLite's and the references' top-k). */
export function topK(scores: ArrayLike<number>, k: number, labels?: readonly string[]): TopClass[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k).map((i) => ({ index: i, label: labels?.[i] ?? `class ${i}`, score: scores[i]! }));
}

/** Which tasks a model's outputs fit. */
function tasksOf(loaded: LoadedModel): ModelInfo['tasks'] {
  if (loaded.detectionPostProcess) return ['detect'];
  const g = loaded.graph;
  const shape = g.tensors[g.outputs[0]!]!.shape;
  const spatial = shape[0] === 1 && (shape.length === 3 || shape.length === 4) && shape[1]! > 1 && shape[2]! > 1;
  return spatial ? ['segment'] : ['classify'];
}

export class Model<I = unknown> {
  /** What `lowwater plan --json` prints for this model's plan. */
  readonly plan: PlanJson;
  readonly info: ModelInfo;
  private setup: RunSetup | undefined;
  /** The graph as the file has it (every TFLite operator with its index), for profiles. */
  private readonly fileGraph: Graph;

  /** Models are made by `loadModel`. */
  constructor(
    setup: RunSetup,
    /** The model as the file has it (before dequantizing or fusing), for the numeric path and tasks. */
    file: LoadedModel,
    description: string,
    readonly labels: readonly string[] | undefined,
    private readonly decode: ImageDecoder<I>,
  ) {
    this.setup = setup;
    this.fileGraph = file.graph;
    this.plan = planJson(setup.report);
    const p = describeNumericPath(file, setup.model);
    const { width, height, channels } = setup.model.input;
    const out = setup.model.graph.tensors[setup.model.graph.outputs[0]!]!;
    const grid = setup.outputGrid;
    const fused = setup.model.graph.ops.find((op) => op.kind === 'resize_argmax');
    const post = setup.model.detectionPostProcess;
    this.info = {
      description,
      path: p.path,
      dequantized: p.dequantized,
      pathDescription: p.description,
      input: { width, height, channels },
      tasks: tasksOf(file),
      chunks: setup.chunks,
      planningMs: setup.planningMs,
      ...(labels ? { labels } : {}),
      ...(setup.note ? { note: setup.note } : {}),
      ...(p.path === 'integer'
        ? {
            outputQuantization: {
              dtype: out.dtype,
              scale: out.quant?.scale[0] ?? 1,
              zeroPoint: out.quant?.zeroPoint[0] ?? 0,
            },
          }
        : {}),
      ...(post
        ? { postprocess: { ...post.options, anchors: post.anchors.length / 4, scoreSigmoid: post.scoreSigmoid } }
        : {}),
      ...(fused
        ? { fusedHead: { op: fused.name, scoresShape: setup.model.graph.tensors[fused.inputs[0]!]!.shape } }
        : {}),
      ...(grid
        ? {
            outputGrid: `${grid.dtype} output tensor (scale ${grid.quant.scale[0]}, zero point ${grid.quant.zeroPoint[0]})`,
          }
        : {}),
    };
  }

  private live(what: string): RunSetup {
    if (!this.setup) throw new Error(`${what}: this model was disposed`);
    return this.setup;
  }

  /** Decodes, resizes (TF half-pixel bilinear, whole image, no crop) and runs one image. */
  private async runImage(image: I, what: string): Promise<{ run: RunResult; rgb: RgbImage; inputSha256: string }> {
    const setup = this.live(what);
    const rgb = await this.decode(image);
    const executor = this.live(what).executor;
    if (executor.streamsInput) {
      // A streamed plan resizes each input row when it needs it: the resized image never exists.
      const { inputSha256, ...run } = executor.runImage(rgb);
      return { run, rgb, inputSha256 };
    }
    const { width, height } = setup.model.input;
    const bytes = resizeBilinearHalfPixel(rgb.data, rgb.width, rgb.height, 3, width, height);
    const inputSha256 = await sha256Hex(bytes);
    const run = executor.runPixels(bytes);
    return { run, rgb, inputSha256 };
  }

  /**
   * Classifies an image: the `top` classes by score (default 5), the raw output
   * tensor, and the run's latency and memory.
   */
  async classify(image: I, options: { top?: number } = {}): Promise<Classification> {
    const k = options.top ?? 5;
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`classify: top must be a whole number ≥ 1, got ${k}`);
    const { run, inputSha256 } = await this.runImage(image, 'classify');
    const setup = this.live('classify');
    const scores = this.scores(run.output);
    return {
      top: topK(scores, k, this.labels),
      output: run.output instanceof Float32Array ? scores : run.output,
      inputSha256,
      latencyMs: run.latencyMs,
      memory: setup.executor.memoryReport(),
    };
  }

  /**
   * Scores of a run's first output: on the integer path its real values
   * scale·(q − zero point); on the float path of a quantized file the floats
   * rounded to the file's output grid (so ranks and ties are the model's own).
   */
  private scores(output: OutputTensor): Float32Array {
    const setup = this.live('classify');
    if (output instanceof Float32Array)
      return setup.outputGrid ? quantizeLike(output, setup.outputGrid.quant, setup.outputGrid.dtype) : output;
    const g = setup.model.graph;
    const q = g.tensors[g.outputs[0]!]!.quant;
    const scale = q?.scale[0] ?? 1;
    const zero = q?.zeroPoint[0] ?? 0;
    return Float32Array.from(output, (v) => scale * (v - zero));
  }

  /** Labels every pixel (the model's class map at its output resolution), with class counts and its sha256. */
  async segment(image: I): Promise<Segmentation> {
    const g = this.live('segment').model.graph;
    const outT = g.tensors[g.outputs[0]!]!;
    if (!this.info.tasks.includes('segment'))
      throw new Error(
        `${this.info.description}: output '${outT.name}' has shape ${describeShape(outT.shape)}; a segmentation model ends with class ids [1,H,W] or class scores [1,H,W,C]`,
      );
    const { run, rgb, inputSha256 } = await this.runImage(image, 'segment');
    const setup = this.live('segment');
    const map = classMapFromOutput(run.outputs[0]!, g.tensors[g.outputs[0]!]!.shape, `${this.info.description} output`);
    return {
      width: map.width,
      height: map.height,
      classMap: map.ids,
      classCounts: classCounts(map, this.labels),
      maskSha256: await sha256Hex(map.ids),
      inputSha256,
      sourceWidth: rgb.width,
      sourceHeight: rgb.height,
      latencyMs: run.latencyMs,
      memory: setup.executor.memoryReport(),
    };
  }

  /**
   * Finds objects with an SSD whose file ends in TFLite_Detection_PostProcess;
   * `threshold` keeps detections scoring at least that (the op's own score
   * threshold applies first).
   */
  async detect(image: I, options: { threshold?: number } = {}): Promise<Detections> {
    const setup = this.live('detect');
    if (!setup.model.detectionPostProcess) {
      const out = setup.model.graph.tensors[setup.model.graph.outputs[0]!]!;
      throw new Error(
        `detect: ${this.info.description} has no TFLite_Detection_PostProcess op (its output '${out.name}' is ${describeShape(out.shape)}); detection needs an SSD exported with it`,
      );
    }
    const threshold = options.threshold ?? -Infinity;
    const { run, rgb, inputSha256 } = await this.runImage(image, 'detect');
    const t0 = performance.now();
    const found = detectionsOf(setup.model, run.outputs).filter((d) => d.score >= threshold);
    const postprocessMs = performance.now() - t0;
    return {
      detections: found.map((d) => ({
        classId: d.classId,
        label: this.labels?.[d.classId] || `class ${d.classId}`,
        score: d.score,
        box: { ymin: d.ymin, xmin: d.xmin, ymax: d.ymax, xmax: d.xmax },
        pixels: toPixels(d, rgb.width, rgb.height),
      })),
      inputSha256,
      sourceWidth: rgb.width,
      sourceHeight: rgb.height,
      latencyMs: run.latencyMs,
      postprocessMs,
      memory: setup.executor.memoryReport(),
    };
  }

  /**
   * Where the time of a run goes: runs the model many times, timing every plan step (one op,
   * or one fused inverted residual block), and reports each step's median time next to its
   * multiply-adds, bytes read and written, chunk count and share of the steps' time, with the
   * whole run's wall and CPU time. Without an image
   * the input is mid-grey (every byte 128; kernel times do not depend on pixel values).
   * Synchronous inside: it holds the thread for the runs (about 2 s by default).
   */
  async profile(image?: I, options: ProfileOptions = {}): Promise<Profile> {
    const setup = this.live('profile');
    const { width, height } = setup.model.input;
    let bytes: Uint8Array;
    let description: string;
    if (image === undefined) {
      bytes = new Uint8Array(width * height * 3).fill(128);
      description = `mid-grey ${width}x${height} (no image given: every byte 128)`;
    } else {
      const rgb = await this.decode(image);
      bytes = resizeBilinearHalfPixel(rgb.data, rgb.width, rgb.height, 3, width, height);
      description = typeof image === 'string' ? image : `${rgb.width}x${rgb.height} image`;
      if (rgb.width !== width || rgb.height !== height) description += `, resized to ${width}x${height}`;
    }
    const input = { description, synthetic: image === undefined, width, height, sha256: await sha256Hex(bytes) };
    const live = this.live('profile');
    return profileSteps(
      {
        executor: live.executor,
        graph: live.model.graph,
        plan: live.plan,
        fileGraph: this.fileGraph,
        model: this.info.description,
        path: this.info.path,
        pathDescription: this.info.pathDescription,
      },
      bytes,
      input,
      options,
    );
  }

  /** Memory of this model: arena (planned and measured), weights, WebAssembly memory. */
  memory(): MemoryReport {
    return this.live('memory').executor.memoryReport();
  }

  /** Drops the model's WebAssembly memory and ends its threads (loadModel's `threads`); any later call throws. */
  dispose(): void {
    void this.setup?.executor.close();
    this.setup = undefined;
  }
}
