/**
 * lowwater for browsers, Web Workers, edge workers (workerd) and Deno: the same
 * API as the Node entry with no Node built-ins.
 *
 * ```ts
 * import { loadModel } from 'lowwater/web';
 * const model = await loadModel(await fetch('/models/mobilenet_v2_1.0_224_quant.tflite'));
 * const { top } = await model.classify(imageData);   // ImageData, pixels, or PNG/JPEG bytes
 * ```
 *
 * The kernels (`lowwater/kernels.wasm`) are fetched from beside this module
 * unless `kernels` is given: a compiled WebAssembly.Module (what an edge worker
 * imports statically, since workerd does not compile WebAssembly at run time),
 * a Response, the bytes, or a URL.
 */
import { Model } from './api/model.js';
import { runOptions } from './api/options.js';
import type { ImageDataLike, ModelOptions, Pixels } from './api/types.js';
import { importTflite } from './importers/tflite/import.js';
import { hasTfliteIdentifier } from './importers/tflite/file.js';
import { TfliteFormatError } from './importers/tflite/errors.js';
import { compileKernels, type KernelSource } from './kernels/loader.js';
import { parseLabels } from './labels.js';
import { isPixels, pixelsToRgb, type RgbImage } from './preprocess/pixels.js';
import { decodeImageBytes } from './preprocess/web_decode.js';
import { prepareRun } from './run_setup.js';

export { Model, topK } from './api/model.js';
export type * from './api/types.js';
export { ImageError } from './preprocess/pixels.js';
export { PlanRefusedError } from '../planner/plan_graph.js';
export { UsageError } from './errors.js';
export { TfliteFormatError, TfliteUnsupportedError } from './importers/tflite/errors.js';
export type { KernelSource } from './kernels/loader.js';

/** An image on the web: pixels, ImageData, PNG/JPEG bytes, or a Response/Blob of them. */
export type WebImage = Pixels | ImageDataLike | Uint8Array | ArrayBuffer | Blob | Response;

/** A model: a .tflite file's bytes, a Response, or a URL (fetched). */
export type WebModelSource = Uint8Array | ArrayBuffer | Response | URL | string;

export interface WebLoadOptions extends ModelOptions {
  /** The kernel module (default: build/lowwater.wasm fetched from beside this module). */
  kernels?: KernelSource;
  /** Output labels, or the URL of a labels file (one label per line). */
  labels?: string[] | string | URL;
}

async function bytesOf(source: Uint8Array | ArrayBuffer | Blob | Response, what: string): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`${what}: ${source.url || 'the response'} is HTTP ${source.status}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  return new Uint8Array(await (source as Blob).arrayBuffer());
}

async function decodeWebImage(image: WebImage): Promise<RgbImage> {
  if (isPixels(image)) return pixelsToRgb(image);
  if (image instanceof Uint8Array || image instanceof ArrayBuffer || image instanceof Blob || image instanceof Response)
    return decodeImageBytes(
      await bytesOf(image, 'image'),
      image instanceof Response ? image.url || 'image' : 'image bytes',
    );
  throw new TypeError(
    'image must be pixels { data, width, height, channels }, ImageData, PNG/JPEG bytes, a Blob or a Response',
  );
}

/** Loads a .tflite model, plans it (order, Section 5.1 chunks, arena offsets) and creates its memory. */
export async function loadModel(source: WebModelSource, options: WebLoadOptions = {}): Promise<Model<WebImage>> {
  const { kernels, labels, ...model } = options;
  const name =
    source instanceof URL || typeof source === 'string'
      ? String(source)
      : source instanceof Response
        ? source.url || 'model'
        : 'model bytes';
  const bytes = await bytesOf(
    typeof source === 'string' || source instanceof URL ? await fetch(source) : source,
    `model ${name}`,
  );
  if (!hasTfliteIdentifier(bytes))
    throw new TfliteFormatError("not a TFLite model (bytes 4..7 are not the 'TFL3' file identifier)", 4, name);
  const loaded = importTflite(bytes, name);
  const module = await compileKernels(kernels ?? new URL('../build/lowwater.wasm', import.meta.url));
  let setup;
  try {
    setup = await prepareRun(loaded, runOptions(model, module));
  } finally {
    // The weights are in the WebAssembly memory now (or loading failed): drop what was read from the model
    // (the executed model's derived constants, then the file handle or bytes).
    setup?.model.constants.release?.();
    loaded.constants.release?.();
  }
  let names: string[] | undefined;
  if (Array.isArray(labels)) names = labels;
  else if (labels !== undefined) {
    const res = await fetch(labels);
    if (!res.ok) throw new Error(`labels ${String(labels)}: HTTP ${res.status}`);
    names = parseLabels(await res.text(), `labels ${String(labels)}`);
  }
  return new Model<WebImage>(setup, loaded, name, names, decodeWebImage);
}
