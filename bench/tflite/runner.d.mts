/** Types for runner.mjs (plain ESM so it runs without the root's TypeScript setup). */

export declare const TFLITE_BUILD: string;
export declare const HOW_TO_INSTALL: string;

/** The tfjs-tflite package folder under bench/tflite/node_modules, or undefined when not installed. */
export declare function tfliteInstallDir(): string | undefined;

export interface TfliteTensorInfo {
  name: string;
  /** 'uint8' | 'int8' | 'float32' ... as tfjs-tflite names them. */
  dataType: string;
  /** Comma-separated dimensions, e.g. '1,224,224,3'. */
  shape: string;
}

export interface TfliteMemory {
  memoryBytes: number;
  /** One past the highest non-zero byte of the WebAssembly memory (heap high-water mark). */
  highWaterBytes: number;
}

export interface TfliteHeap {
  before: TfliteMemory;
  now: TfliteMemory;
  /** Growth of the WebAssembly memory itself (0 while TFLite fits the initial 32 MiB). */
  memoryGrowthBytes: number;
  /** Growth of the heap high-water mark since before this model was loaded. */
  highWaterGrowthBytes: number;
}

export interface TfliteRunner {
  name: string;
  /** The emscripten build that runs ('tflite_web_api_cc_simd.wasm'). */
  build: string;
  /** What TFLite printed while loading this model. */
  log: string[];
  input: TfliteTensorInfo;
  output: TfliteTensorInfo;
  /** Copies `input` into the first input tensor, runs, returns a copy of the first output tensor's raw bytes. */
  run(input: Uint8Array): Uint8Array;
  heap(): TfliteHeap;
  /** Per-node times (whole ms) of every run in the profiler's buffer; needs `profiling: true`. Delegated subgraphs are 'TfLiteXNNPackDelegate' nodes. */
  profile(): { nodeType: string; nodeName: string; nodeExecMs: number }[];
  /** TFLite's profile summary text, with XNNPACK's per-operator "Delegate internal" part; needs `profiling: true`. */
  profileSummary(): string;
  dispose(): void;
}

export declare function createTfliteRunner(
  modelPath: string,
  opts?: { threads: 1; profiling?: boolean; maxProfilingBufferEntries?: number },
): Promise<TfliteRunner>;
