/**
 * Resolves what a user names as a model (a registry name, a .tflite file, a
 * TensorFlow.js model.json, or the bytes of a .tflite file) into a loaded model
 * with its labels. Node only: it reads files; the web entry takes bytes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findRegistryEntry, REGISTRY, type RegistryEntry } from '../models/registry.js';
import type { LoadedModel } from './model.js';
import { ModelNotAvailableError, resolveRemoteFile, type FetchOptions } from './registry/fetch.js';
import { importTflite, loadTfliteFile } from './importers/tflite/index.js';
import { TfliteFormatError } from './importers/tflite/errors.js';
import { hasTfliteIdentifier } from './importers/tflite/file.js';
import { loadTfjsLayersFile } from './importers/tfjs/file.js';
import { packageRoot } from './package_root.js';
import { parseLabels } from './labels.js';

export const DEFAULT_MODEL = 'nsfw_mobilenet_v2';
export const FALLBACK_MODEL = 'mobilenet_v2_1.0_224';

export interface ResolvedModel {
  /** As imported: quantized models keep their integer dtypes. */
  model: LoadedModel;
  /** Label of output index i is labels[i] (undefined: no labels known). */
  labels?: string[];
  /** Registry entry when the model came from the registry. */
  entry?: RegistryEntry;
  /** What was loaded, for messages ("mobilenet_v2_1.0_224 (/path/file.tflite)"). */
  description: string;
}

export interface ResolveOptions extends FetchOptions {
  labelsFile?: string;
  /** Folder of the bundled models (default: build/models of the installed package). */
  bundledModelsDir?: string;
}

/** Reads a labels file: one label per line, line i = output index i. */
export async function readLabels(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new Error(`labels file '${file}' ${why}`);
  }
  return parseLabels(text, `labels file '${file}'`);
}

async function loadBundled(
  entry: Extract<RegistryEntry, { kind: 'bundled' }>,
  opts: ResolveOptions,
): Promise<ResolvedModel> {
  const file = join(opts.bundledModelsDir ?? join(packageRoot(), 'build', 'models'), entry.dir, 'model.json');
  try {
    await stat(file);
  } catch {
    throw new ModelNotAvailableError(
      `the bundled model ${entry.name} is missing (${file}); in a clone of lowwater, 'npm ci' or 'npm run build' writes it`,
    );
  }
  const model = await loadTfjsLayersFile(file);
  return {
    model,
    ...(model.labels ? { labels: model.labels } : {}),
    entry,
    description: `${entry.name} (${entry.origin})`,
  };
}

async function loadEntry(entry: RegistryEntry, opts: ResolveOptions): Promise<ResolvedModel> {
  if (entry.kind === 'bundled') return loadBundled(entry, opts);
  const path = await resolveRemoteFile(entry.model, opts);
  const model = await loadTfliteFile(path);
  let labels: string[] | undefined;
  if (!opts.labelsFile)
    labels = (await readLabels(await resolveRemoteFile(entry.labels, opts))).slice(entry.labelOffset);
  return { model, entry, description: `${entry.name} (${path})`, ...(labels ? { labels } : {}) };
}

/** A model file: TFLite (by its 'TFL3' identifier) or a TensorFlow.js layers model.json. */
async function loadFile(path: string): Promise<LoadedModel> {
  if (path.endsWith('.json')) return loadTfjsLayersFile(path);
  return loadTfliteFile(path);
}

/**
 * Loads `spec` — a registry name, a file path, or a .tflite file's bytes
 * (undefined: the default model, falling back to FALLBACK_MODEL when the
 * bundled one is missing).
 */
export async function resolveModel(
  spec: string | Uint8Array | ArrayBuffer | undefined,
  opts: ResolveOptions = {},
): Promise<ResolvedModel> {
  let resolved: ResolvedModel;
  if (spec instanceof Uint8Array || spec instanceof ArrayBuffer) {
    const bytes = spec instanceof Uint8Array ? spec : new Uint8Array(spec);
    if (!hasTfliteIdentifier(bytes))
      throw new TfliteFormatError(
        "not a TFLite model (bytes 4..7 are not the 'TFL3' file identifier)",
        4,
        'model bytes',
      );
    resolved = { model: importTflite(bytes, 'model bytes'), description: `model bytes (${bytes.byteLength} B)` };
  } else if (spec === undefined) {
    try {
      resolved = await loadEntry(findRegistryEntry(DEFAULT_MODEL)!, opts);
    } catch (e) {
      if (!(e instanceof ModelNotAvailableError)) throw e;
      opts.log?.(`default model ${DEFAULT_MODEL} is not available (${e.message}); using ${FALLBACK_MODEL} instead`);
      resolved = await loadEntry(findRegistryEntry(FALLBACK_MODEL)!, opts);
    }
  } else {
    const entry = findRegistryEntry(spec);
    if (entry) resolved = await loadEntry(entry, opts);
    else {
      const kind = await stat(spec).then(
        (s) => (s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other'),
        () => 'missing',
      );
      if (kind === 'file') resolved = { model: await loadFile(spec), description: spec };
      else if (kind === 'directory')
        throw new Error(`model '${spec}' is a directory; give a .tflite file, a model.json, or a registry name`);
      else
        throw new Error(
          `model '${spec}' is neither a file nor a known model name (known: ${REGISTRY.map((e) => e.name).join(', ')})`,
        );
    }
  }
  if (opts.labelsFile) resolved.labels = await readLabels(opts.labelsFile);
  return resolved;
}

/**
 * Puts a registry model's files (model and labels) in the cache when they are not on this machine yet,
 * without reading the model: a batch's worker threads, which each load the model, then find them there
 * instead of each downloading them. Anything else (a file, bytes, the bundled default) needs nothing.
 */
export async function prefetchModel(
  spec: string | Uint8Array | ArrayBuffer | undefined,
  opts: ResolveOptions = {},
): Promise<void> {
  const entry = typeof spec === 'string' ? findRegistryEntry(spec) : undefined;
  if (!entry || entry.kind === 'bundled') return;
  await resolveRemoteFile(entry.model, opts);
  if (!opts.labelsFile) await resolveRemoteFile(entry.labels, opts);
}
