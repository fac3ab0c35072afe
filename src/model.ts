/**
 * A loaded model: the graph plus its constant data, how image pixels map to
 * the input tensor, and the labels of its outputs.
 */
import type { Graph, Quantization } from '../planner/ir.js';
import type { DetectionPostProcessOptions } from './detect/postprocess.js';

export type ConstData = Float32Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;

/**
 * The data of a model's constant tensors (weights, biases), by tensor id. The
 * graph is planned without it; the executor reads each constant as it packs
 * it into the WebAssembly memory, then the loader releases the store (and with
 * it the model's bytes or file handle). A Map is a store (models built in code).
 */
export interface ConstantStore {
  /** Data of constant tensor `id` in the dtype the tensor declares; undefined when there is none. */
  get(id: number): ConstData | undefined;
  /** Drops what the store reads from (the model's bytes, a file handle); later reads throw. */
  release?(): void;
  /** Bytes of ArrayBuffers the store holds now (the model's bytes, cached constants). */
  retainedBytes?(): number;
}

/**
 * Constants computed when first asked for, each by its own function (reading a
 * range of the model, dequantizing, folding). The few last results are kept,
 * since a chunked block's lowering asks for the same weights once per chunk.
 */
export class LazyConstants implements ConstantStore {
  private static readonly KEEP = 4;
  private readonly recent = new Map<number, ConstData>();
  private released = false;

  constructor(
    private readonly compute: Map<number, () => ConstData>,
    private readonly what: string,
    private readonly onRelease?: () => void,
    private readonly heldBytes: () => number = () => 0,
  ) {}

  get(id: number): ConstData | undefined {
    const hit = this.recent.get(id);
    if (hit) return hit;
    const f = this.compute.get(id);
    if (!f) return undefined;
    if (this.released) throw new Error(`${this.what}: the weights were released after loading; load the model again`);
    const data = f();
    this.recent.set(id, data);
    if (this.recent.size > LazyConstants.KEEP) this.recent.delete(this.recent.keys().next().value!);
    return data;
  }

  release(): void {
    this.released = true;
    this.recent.clear();
    this.onRelease?.();
  }

  retainedBytes(): number {
    let n = this.released ? 0 : this.heldBytes();
    for (const d of this.recent.values()) n += d.byteLength;
    return n;
  }
}

/**
 * How an RGB uint8 pixel p becomes the value fed to the model.
 * - 'quantized': the model takes the uint8 bytes as they are (TFLite uint8 input);
 *   its real value is scale * (p - zeroPoint), which the float path computes.
 * - 'affine': the model takes float32 `p * scale + offset` (nsfwjs: scale 1/255, offset 0).
 */
export type InputNormalization =
  { kind: 'quantized'; scale: number; zeroPoint: number } | { kind: 'affine'; scale: number; offset: number };

export interface LoadedModel {
  /** File path or registry name it came from. */
  source: string;
  format: 'tflite' | 'tfjs';
  graph: Graph;
  /** Data of every constant tensor, by tensor id, in the dtype the tensor declares (read on demand). */
  constants: ConstantStore;
  input: { height: number; width: number; channels: number; normalization: InputNormalization };
  /** Class names when the model carries them (nsfwjs), else undefined. */
  labels?: string[];
  /** Detection post-processing the file asks for after the graph (TFLite_Detection_PostProcess); see src/detect/. */
  detectionPostProcess?: DetectionPostProcessSpec;
}

/**
 * A TFLite_Detection_PostProcess custom op, lifted out of the graph by the
 * importer: the graph ends at the op's box-encoding and class-score inputs
 * (graph outputs `boxesOutput`, `scoresOutput`) and src/detect runs the op.
 */
export interface DetectionPostProcessSpec {
  options: DetectionPostProcessOptions;
  /** Anchors [N, 4] as (ycenter, xcenter, h, w), dequantized. */
  anchors: Float32Array;
  boxesOutput: number;
  scoresOutput: number;
  /** A LOGISTIC between the scores and the op was folded into the post-process: apply the sigmoid. */
  scoreSigmoid: boolean;
  /** uint8/int8 grid the op's inputs had in the file (the float path rounds to it, as TFLite's values are). */
  boxesGrid?: { quant: Quantization; dtype: 'u8' | 'i8' };
  scoresGrid?: { quant: Quantization; dtype: 'u8' | 'i8' };
}

/** A model that is not on this machine (package not installed, file not downloaded); the message says how to get it. */
export class ModelNotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotAvailableError';
  }
}
