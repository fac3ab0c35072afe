/**
 * Resolves what a user passes to `--model` (a registry name or a file) into a
 * loaded model with its labels.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { findRegistryEntry, REGISTRY, type RegistryEntry } from '../models/registry.js';
import type { LoadedModel } from './model.js';
import { ModelNotAvailableError, resolveRemoteFile, type FetchOptions } from './registry/fetch.js';
import { loadTfliteFile } from './importers/tflite/index.js';
import { loadNsfwjsMobileNetV2 } from './importers/tfjs/index.js';

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

export interface LoadOptions extends FetchOptions {
  labelsFile?: string;
  /** Where to resolve the nsfwjs package from (default: lowwater's own install). */
  nsfwjsResolveFrom?: string;
}

export function readLabels(file: string): string[] {
  if (!existsSync(file)) throw new Error(`labels file '${file}' does not exist`);
  const text = readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`labels file '${file}' is empty`);
  return lines;
}

async function loadEntry(entry: RegistryEntry, opts: LoadOptions): Promise<ResolvedModel> {
  if (entry.kind === 'nsfwjs') {
    const model = await loadNsfwjsMobileNetV2(opts.nsfwjsResolveFrom ? { resolveFrom: opts.nsfwjsResolveFrom } : {});
    return {
      model,
      labels: model.labels,
      entry,
      description: `${entry.name} (from the installed npm package ${entry.packageName})`,
    };
  }
  const path = await resolveRemoteFile(entry.model, opts);
  const model = await loadTfliteFile(path);
  let labels: string[] | undefined;
  if (!opts.labelsFile) labels = readLabels(await resolveRemoteFile(entry.labels, opts)).slice(entry.labelOffset);
  return { model, entry, description: `${entry.name} (${path})`, ...(labels ? { labels } : {}) };
}

/** Loads `spec` (registry name or file path; undefined = the default model, with fallback). */
export async function loadModel(spec: string | undefined, opts: LoadOptions = {}): Promise<ResolvedModel> {
  let resolved: ResolvedModel;
  if (spec === undefined) {
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
    else if (existsSync(spec) && statSync(spec).isFile()) {
      resolved = { model: await loadTfliteFile(spec), description: spec };
    } else {
      throw new Error(
        `--model '${spec}' is neither a file nor a known model name (known: ${REGISTRY.map((e) => e.name).join(', ')})`,
      );
    }
  }
  if (opts.labelsFile) resolved.labels = readLabels(opts.labelsFile);
  return resolved;
}
