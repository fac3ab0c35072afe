/**
 * The messages between a batch's main thread and its worker threads, and how
 * an error crosses between them with its class and fields (structured clone
 * keeps only the message of an Error subclass).
 */
import type { Classification, MemoryReport, ModelInfo, ModelOptions, PlanJson } from '../api/types.js';
import type { NodeImage } from '../index.js';
import { UsageError } from '../errors.js';
import { PlanRefusedError } from '../../planner/plan_graph.js';
import { ModelNotAvailableError } from '../model.js';
import { TfliteFormatError, TfliteUnsupportedError } from '../importers/tflite/errors.js';
import { ImageError } from '../preprocess/pixels.js';

/** What a worker starts with (its workerData). */
export interface WorkerStart {
  /** The kernel module the main thread compiled; V8 shares its code with the worker. */
  kernels: WebAssembly.Module;
  kernelBytes: number | undefined;
  source: string | Uint8Array | ArrayBuffer | undefined;
  options: ModelOptions & { labels?: string | string[]; offline?: boolean };
  top: number;
}

/** One image to classify; `id` is its index in the batch. */
export interface Task {
  id: number;
  image: NodeImage;
}

/** Memory of one worker: its model's report and its JavaScript heap. */
export interface WorkerMemory {
  /** The worker's model: WebAssembly memory (weights + arena) and the rest of its footprint. */
  model: MemoryReport;
  /** Bytes of the worker's own JavaScript heap (V8 used heap size after loading). */
  jsHeapBytes: number;
}

export type WorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'ready'; info: ModelInfo; plan: PlanJson; memory: WorkerMemory }
  | { type: 'failed'; error: SerializedError }
  | { type: 'done'; id: number; result: Classification }
  | { type: 'error'; id: number; message: string };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable fields (PlanRefusedError's minimumBytes, a file name, ...). */
  fields: Record<string, unknown>;
}

const KNOWN: Record<string, { prototype: Error }> = {
  UsageError,
  PlanRefusedError,
  ModelNotAvailableError,
  TfliteFormatError,
  TfliteUnsupportedError,
  ImageError,
};

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    try {
      structuredClone(v);
      fields[k] = v;
    } catch {
      /* a field that cannot cross threads is left out */
    }
  }
  return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}), fields };
}

/** The error again, of its own class when it is one of lowwater's (so `instanceof` works across the thread). */
export function deserializeError(s: SerializedError): Error {
  const proto = KNOWN[s.name]?.prototype ?? Error.prototype;
  const e = Object.create(proto) as Error;
  Object.assign(e, s.fields);
  Object.defineProperty(e, 'message', { value: s.message, writable: true, configurable: true });
  Object.defineProperty(e, 'name', { value: s.name, writable: true, configurable: true });
  if (s.stack) Object.defineProperty(e, 'stack', { value: s.stack, writable: true, configurable: true });
  return e;
}
