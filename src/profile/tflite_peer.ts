/**
 * Runs a .tflite file in the TFLite-WASM peer (bench/tflite of a lowwater checkout:
 * tfjs-tflite, XNNPACK, SIMD, 1 thread) with TFLite's profiler on, for `lowwater
 * profile --tflite`. Node only. The peer is not part of the lowwater package: it is
 * found in the checkout next to this source (or at $LOWWATER_TFLITE_PEER), installed
 * with `npm ci --prefix bench/tflite`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findRegistryEntry } from '../../models/registry.js';
import { normalizePixels } from '../executor/executor.js';
import { hasTfliteIdentifier } from '../importers/tflite/file.js';
import { loadTfliteFile } from '../importers/tflite/index.js';
import { packageRoot } from '../package_root.js';
import { resolveRemoteFile } from '../registry/fetch.js';
import { readFile } from 'node:fs/promises';
import { fileOperators, matchTfliteProfile, type TfliteRun } from './tflite.js';
import type { ProfileRow, TfliteProfile } from './types.js';

/** The slice of bench/tflite/runner.mjs this module uses. */
interface PeerRunner {
  name: string;
  input: { dataType: string; shape: string };
  run(input: Uint8Array): Uint8Array;
  profileSummary(): string;
  dispose(): void;
}
interface PeerModule {
  tfliteInstallDir(): string | undefined;
  HOW_TO_INSTALL: string;
  createTfliteRunner(
    path: string,
    opts: { threads: 1; profiling?: boolean; maxProfilingBufferEntries?: number },
  ): Promise<PeerRunner>;
}

/** Thrown when TFLite's profile cannot be taken: the peer is missing, or the model is not a .tflite file. */
export class TflitePeerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TflitePeerUnavailableError';
  }
}

/** Folder of the peer: $LOWWATER_TFLITE_PEER, else bench/tflite of the checkout. */
export function tflitePeerDir(): string {
  return process.env.LOWWATER_TFLITE_PEER ?? join(packageRoot(), 'bench', 'tflite');
}

let peer: Promise<PeerModule> | undefined;

/** The peer's runner module, or a TflitePeerUnavailableError saying how to install it. */
export async function loadTflitePeer(): Promise<PeerModule> {
  const runner = join(tflitePeerDir(), 'runner.mjs');
  if (!existsSync(runner))
    throw new TflitePeerUnavailableError(
      `the TFLite-WASM peer is not here (${runner} is missing): it comes with a lowwater checkout (bench/tflite), or set LOWWATER_TFLITE_PEER to its folder`,
    );
  peer ??= import(pathToFileURL(runner).href) as Promise<PeerModule>;
  const m = await peer;
  if (!m.tfliteInstallDir()) throw new TflitePeerUnavailableError(m.HOW_TO_INSTALL);
  return m;
}

/**
 * The .tflite file of a model as `loadModel` takes it, or why there is none (the bundled
 * default is a TensorFlow.js model; bytes have no path).
 */
export async function tflitePathOf(
  source: string | Uint8Array | ArrayBuffer | undefined,
  opts: { offline?: boolean } = {},
): Promise<string> {
  if (source === undefined)
    throw new TflitePeerUnavailableError(
      "the default model is a TensorFlow.js model: TFLite's profile needs a .tflite file",
    );
  if (typeof source !== 'string')
    throw new TflitePeerUnavailableError("TFLite's profile needs the .tflite file's path, not its bytes");
  const entry = findRegistryEntry(source);
  if (entry) {
    if (entry.kind !== 'tflite')
      throw new TflitePeerUnavailableError(
        `'${entry.name}' is a TensorFlow.js model: TFLite's profile needs a .tflite file`,
      );
    return resolveRemoteFile(entry.model, opts.offline !== undefined ? { offline: opts.offline } : {});
  }
  const head = (await readFile(source)).subarray(0, 8);
  if (!hasTfliteIdentifier(head))
    throw new TflitePeerUnavailableError(`'${source}' is not a .tflite file: TFLite's profile needs one`);
  return source;
}

/**
 * Profiles `file` in TFLite-WASM on the same RGB bytes lowwater ran (`pixels`, the model's
 * input size) and matches TFLite's entries to lowwater's `rows`. Two interpreters of the
 * file take turns, one with TFLite's profiler and one without (its median run is reported
 * beside); `warmup` runs of each come first.
 */
export async function profileTflite(
  file: string,
  pixels: Uint8Array,
  rows: ProfileRow[],
  options: { runs: number; warmup: number },
): Promise<TfliteProfile> {
  const m = await loadTflitePeer();
  const loaded = await loadTfliteFile(file);
  const ops = fileOperators(loaded.graph);
  loaded.constants.release?.();
  const warmup = Math.max(1, options.warmup);
  const runs = options.runs;
  // Every run adds one event per node and per XNNPACK operator (fewer than two per operator);
  // the buffer must hold them all, or the oldest are overwritten.
  const maxProfilingBufferEntries = (warmup + runs + 2) * (2 * ops.length + 16);
  // The interpreter without the profiler first: creating an interpreter after a profiled one
  // leaves the profiled one's summary empty (tfjs-tflite 0.0.1-alpha.10).
  const plain = await m.createTfliteRunner(file, { threads: 1 });
  let profiled: PeerRunner;
  try {
    profiled = await m.createTfliteRunner(file, { threads: 1, profiling: true, maxProfilingBufferEntries });
  } catch (e) {
    plain.dispose();
    throw e;
  }
  try {
    const input = inputBytes(profiled.input.dataType, profiled.input.shape, pixels, loaded);
    const timed = (r: PeerRunner) => {
      const t = performance.now();
      r.run(input);
      return performance.now() - t;
    };
    for (let i = 0; i < warmup; i++) {
      timed(profiled);
      timed(plain);
    }
    const summaryAfterWarmup = profiled.profileSummary();
    const runMs: number[] = [];
    const plainMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      runMs.push(timed(profiled));
      plainMs.push(timed(plain));
    }
    const run: TfliteRun = {
      runtime: profiled.name,
      runs,
      warmup,
      runMs,
      plainMs,
      summaryAfterWarmup,
      summaryAfterRuns: profiled.profileSummary(),
    };
    return matchTfliteProfile(run, ops, rows);
  } finally {
    profiled.dispose();
    plain.dispose();
  }
}

/** The model-input bytes TFLite takes for these RGB bytes: as they are (uint8), shifted by 128 (int8), or normalized floats. */
function inputBytes(
  dataType: string,
  shape: string,
  pixels: Uint8Array,
  model: Awaited<ReturnType<typeof loadTfliteFile>>,
): Uint8Array {
  switch (dataType) {
    case 'uint8':
      return pixels;
    case 'int8':
      return Uint8Array.from(pixels, (p) => (p - 128) & 0xff);
    case 'float32': {
      const f = normalizePixels(model, pixels);
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    }
    default:
      throw new Error(`TFLite input [${shape}] is ${dataType}; lowwater's profile feeds uint8, int8 or float32 inputs`);
  }
}
