/**
 * lowwater for Node: load a MobileNetV2-family model, plan its memory, run it.
 *
 * ```ts
 * import { loadModel } from 'lowwater';
 * const model = await loadModel();                       // the bundled default (nsfwjs MobileNetV2)
 * const { top } = await model.classify('photo.jpg');
 * const q8 = await loadModel('mobilenet_v2_1.0_224_quant.tflite', { budget: '512KiB' });
 * ```
 *
 * Images are file paths, encoded bytes (PNG, JPEG, WebP, GIF, TIFF, AVIF; decoded
 * by sharp, loaded on first use), or pixels `{ data, width, height, channels }`.
 */
import { Model } from './api/model.js';
import { runOptions, threadCount } from './api/options.js';
import { startNodeThreads } from './executor/node_threads.js';
import type { ImageDataLike, ModelOptions, Pixels, Profile, ProfileOptions } from './api/types.js';
import { loadKernels, loadThreadKernels } from './kernels/node_loader.js';
import { resolveModel } from './load_model.js';
import { decodeImage } from './preprocess/image.js';
import { isPixels, pixelsToRgb, type RgbImage } from './preprocess/pixels.js';
import { prepareRun } from './run_setup.js';
import { resizeBilinearHalfPixel } from './preprocess/resize.js';
import { attachTflite } from './profile/tflite.js';
import { profileTflite, tflitePathOf } from './profile/tflite_peer.js';

export { Model, topK } from './api/model.js';
export type * from './api/types.js';
export { ImageError } from './preprocess/pixels.js';
export { PlanRefusedError } from '../planner/plan_graph.js';
export { UsageError } from './errors.js';
export { ModelNotAvailableError } from './model.js';
export { TfliteFormatError, TfliteUnsupportedError } from './importers/tflite/errors.js';
export { REGISTRY } from '../models/registry.js';
export { DEFAULT_MODEL } from './load_model.js';
export { TflitePeerUnavailableError } from './profile/tflite_peer.js';
export { classifyMany } from './batch/classify_many.js';
export type {
  BatchClassification,
  BatchFailure,
  BatchProgress,
  BatchResult,
  BatchStart,
  ClassifyManyOptions,
  WorkerMemory,
} from './batch/classify_many.js';

/** An image in Node: a file path, encoded bytes, or raw pixels. */
export type NodeImage = string | Uint8Array | ArrayBuffer | Pixels | ImageDataLike;

export interface LoadOptions extends ModelOptions {
  /** Output labels: a labels file (one per line) or the labels themselves. Registry models bring theirs. */
  labels?: string | string[];
  /** Never download a registry model (they are looked up in $LOWWATER_MODELS and the cache first). */
  offline?: boolean;
  /** Progress and notices (downloads, fallbacks). */
  log?: (line: string) => void;
  /**
   * Split each inference across this many threads (default 1): each fused block's output
   * rows (and each 1x1 convolution's pixels) are shared between this thread and
   * `threads − 1` worker threads on one shared WebAssembly memory. Outputs are the same
   * bytes as with one thread. Each extra thread adds one block's chunk scratch to the
   * arena (`memory().threads`). Whole-tensor plans only: refused with `stream: 'on'`, and
   * a `budget` that only a row-streamed plan meets is refused. `dispose()` ends the threads.
   */
  threads?: number;
}

async function decodeNodeImage(image: NodeImage): Promise<RgbImage> {
  if (typeof image === 'string') return decodeImage(image);
  if (image instanceof Uint8Array) return decodeImage(image);
  if (image instanceof ArrayBuffer) return decodeImage(new Uint8Array(image));
  if (isPixels(image)) return pixelsToRgb(image);
  throw new TypeError(
    'image must be a file path, encoded bytes (Uint8Array/ArrayBuffer) or pixels { data, width, height, channels }',
  );
}

/**
 * Loads a model — a registry name (see REGISTRY), a .tflite file, a
 * TensorFlow.js model.json, or a .tflite file's bytes; the bundled default
 * when omitted — plans it (order, Section 5.1 chunks, arena offsets) and
 * creates its memory.
 */
export async function loadModel(
  source?: string | Uint8Array | ArrayBuffer,
  options: LoadOptions = {},
): Promise<Model<NodeImage>> {
  const { labels, offline, log, threads: threadsOption, ...model } = options;
  const threads = threadsOption === undefined ? 1 : threadCount(threadsOption);
  const resolved = await resolveModel(source, {
    ...(typeof labels === 'string' ? { labelsFile: labels } : {}),
    ...(offline !== undefined ? { offline } : {}),
    ...(log ? { log } : {}),
  });
  const kernels = threads > 1 ? await loadThreadKernels() : await loadKernels({ debug: model.debug ?? false });
  let setup;
  try {
    setup = await prepareRun(resolved.model, {
      ...runOptions(model, kernels),
      ...(threads > 1 ? { threads: { count: threads, start: startNodeThreads } } : {}),
    });
  } finally {
    // The weights are in the WebAssembly memory now (or loading failed): drop what was read from the model
    // (the executed model's derived constants, then the file handle or bytes).
    setup?.model.constants.release?.();
    resolved.model.constants.release?.();
  }
  if (setup.note) log?.(setup.note);
  const names = Array.isArray(labels) ? labels : resolved.labels;
  return new Model<NodeImage>(setup, resolved.model, resolved.description, names, decodeNodeImage);
}

export interface ProfileModelOptions extends LoadOptions, ProfileOptions {
  /**
   * Also profile the same .tflite file in the TFLite-WASM peer (bench/tflite of a lowwater
   * checkout) and match TFLite's entries to lowwater's rows (Profile.tflite). Throws
   * TflitePeerUnavailableError when the peer is not installed or the model is not a .tflite file.
   */
  tflite?: boolean;
}

/**
 * `lowwater profile`: loads a model, times every plan step over many runs
 * (Model.profile), and with `tflite` adds TFLite-WASM's own per-operator profile
 * of the same file on the same input bytes.
 */
export async function profileModel(
  source?: string | Uint8Array | ArrayBuffer,
  image?: NodeImage,
  options: ProfileModelOptions = {},
): Promise<Profile> {
  const { runs, warmup, tflite, ...load } = options;
  const file = tflite ? await tflitePathOf(source, load.offline !== undefined ? { offline: load.offline } : {}) : '';
  const model = await loadModel(source, load);
  try {
    const { width, height } = model.info.input;
    let pixels: Uint8Array | undefined;
    let description = '';
    if (image !== undefined) {
      const rgb = await decodeNodeImage(image);
      pixels = resizeBilinearHalfPixel(rgb.data, rgb.width, rgb.height, 3, width, height);
      description = `${typeof image === 'string' ? image : 'image'} (${rgb.width}x${rgb.height}${rgb.width !== width || rgb.height !== height ? `, resized to ${width}x${height}` : ''})`;
    }
    const profile = await model.profile(pixels ? { data: pixels, width, height, channels: 3 } : undefined, {
      ...(runs !== undefined ? { runs } : {}),
      ...(warmup !== undefined ? { warmup } : {}),
    });
    if (description) profile.input.description = description;
    if (tflite) {
      const bytes = pixels ?? new Uint8Array(width * height * 3).fill(128);
      profile.tflite = await profileTflite(file, bytes, profile.rows, { runs: profile.runs, warmup: profile.warmup });
      if (model.info.dequantized)
        profile.tflite.notes.push(
          'lowwater ran the dequantized float32 path of this quantized file, TFLite its integer kernels',
        );
      attachTflite(profile.rows, profile.tflite);
    }
    return profile;
  } finally {
    model.dispose();
  }
}
