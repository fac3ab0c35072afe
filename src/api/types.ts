/**
 * The public types of lowwater's API, shared by the Node entry (`lowwater`)
 * and the web entry (`lowwater/web`).
 */
import type { MemoryReport } from '../executor/executor.js';
import type { PlanJson } from '../../planner/report/json.js';
import type { DetectionPostProcessOptions } from '../detect/postprocess.js';

export type { MemoryReport, PlanJson };
export type * from '../profile/types.js';

/** Section 5.1 channel chunks per inverted residual block: the planner's choice, none (op by op), or t everywhere. */
export type ChunksOption = 'auto' | 'none' | number;

/** Options of `loadModel` common to every runtime. */
export interface ModelOptions {
  /** Channel chunks per inverted residual block (default 'auto': the lowest peak memory, then the fastest). */
  chunks?: ChunksOption;
  /**
   * Peak activation memory allowed: bytes, or text such as '2MiB', '512KB'. The planner picks the fastest plan
   * that fits and refuses (PlanRefusedError, with `minimumBytes`) when none does.
   */
  budget?: number | string;
  /**
   * Row-streamed execution (the network run row by row through line buffers, from the
   * caller's image to the global pool): 'auto' (default) when a budget needs it, 'on'
   * always (the fastest streamed plan within the budget, or the smallest), 'off' never.
   * A streamed run reads the image from the caller's buffer, outside the arena
   * (`memory.inputOutsideArenaBytes`).
   */
  stream?: 'auto' | 'on' | 'off';
  /** Run a quantized model on the float32 path (dequantized weights) instead of the integer path. */
  float?: boolean;
  /**
   * Plan a final bilinear resize read only by an arg-max (the DeepLab head) as one fused op (default true):
   * the full-resolution class scores never exist.
   */
  streamHead?: boolean;
  /** Debug build of the kernels, and every kernel call checked against the buffers its plan step owns. */
  debug?: boolean;
}

/** Raw pixels, row-major, interleaved; a 4th channel (alpha) is dropped, not blended. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** The DOM's ImageData shape (RGBA bytes): a canvas's getImageData() result, or any object like it. */
export interface ImageDataLike {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** One class of a classification, best first. */
export interface TopClass {
  /** Index into the model's output (label i is labels[i]). */
  index: number;
  label: string;
  /** The output's value: a probability for softmax outputs (on the integer path scale·(q − zero point)). */
  score: number;
}

/** The output tensor as the run produced it: float32, or on the integer path its raw quantized bytes. */
export type OutputTensor = Float32Array | Uint8Array | Int8Array | Int32Array;

export interface Classification {
  top: TopClass[];
  /** The whole first output tensor (integer path: its raw uint8/int8 bytes, as TFLite gives them). */
  output: OutputTensor;
  /** sha256 of the model-input bytes (RGB after the resize), to compare inputs with other engines. */
  inputSha256: string;
  /** Time of the network run (not decoding). */
  latencyMs: number;
  memory: MemoryReport;
}

export interface Segmentation {
  /** Size of the class map: the model's output resolution (513×513 for the DeepLab files). */
  width: number;
  height: number;
  /** One class id per pixel, row-major. */
  classMap: Uint8Array;
  /** Pixels per class, by label (classes absent from the map are left out). */
  classCounts: Record<string, number>;
  /** sha256 of classMap (TFLite's ARG_MAX as uint8 gives the same bytes). */
  maskSha256: string;
  inputSha256: string;
  /** Size of the image given, before the resize. */
  sourceWidth: number;
  sourceHeight: number;
  latencyMs: number;
  memory: MemoryReport;
}

export interface DetectedObject {
  classId: number;
  label: string;
  score: number;
  /** Normalized coordinates (0..1 of the image). */
  box: { ymin: number; xmin: number; ymax: number; xmax: number };
  /** The box in pixels of the image given. */
  pixels: { left: number; top: number; right: number; bottom: number };
}

export interface Detections {
  detections: DetectedObject[];
  inputSha256: string;
  sourceWidth: number;
  sourceHeight: number;
  /** The network run. */
  latencyMs: number;
  /** TFLite_Detection_PostProcess: box decoding and non-maximum suppression. */
  postprocessMs: number;
  memory: MemoryReport;
}

/** What a model is and how it runs. */
export interface ModelInfo {
  /** What was loaded ("nsfw_mobilenet_v2 (...)", a file path, "model bytes (3610798 B)"). */
  description: string;
  /** 'integer': uint8/int8 kernels, outputs equal TFLite's; 'float32': float kernels. */
  path: 'integer' | 'float32';
  /** A quantized file run on the float path. */
  dequantized: boolean;
  /** The numeric path in words ("integer (uint8 activations, as the file)"). */
  pathDescription: string;
  /** The size images are resized to. */
  input: { width: number; height: number; channels: number };
  /** Which of classify, segment and detect fit this model's outputs. */
  tasks: ('classify' | 'segment' | 'detect')[];
  labels?: readonly string[];
  /** Chunk count of each fused inverted residual block, by the block's expansion op name. */
  chunks: Record<string, number>;
  planningMs: number;
  /** Why a quantized model runs on the float path, when it does. */
  note?: string;
  /** Integer path: type and grid of the raw output bytes (real value = scale · (q − zeroPoint)). */
  outputQuantization?: { dtype: string; scale: number; zeroPoint: number };
  /**
   * Segmentation models whose final resize + arg-max is planned as one fused op: its name and the shape of the
   * class scores it reads (the full-resolution scores never exist).
   */
  fusedHead?: { op: string; scoresShape: number[] };
  /** Detection models: the TFLite_Detection_PostProcess options the file gives, its anchor count, a folded sigmoid. */
  postprocess?: DetectionPostProcessOptions & { anchors: number; scoreSigmoid: boolean };
  /** Float path of a quantized file: the output grid scores are rounded to, in words. */
  outputGrid?: string;
}
