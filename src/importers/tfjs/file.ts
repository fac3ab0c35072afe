/**
 * A tfjs layers model on disk: `model.json` and the weight shard files its
 * `weightsManifest` names, in the same folder (the TensorFlow.js format).
 *
 * How pixels become the model's input and the labels of its outputs are not
 * part of that format; lowwater reads them from the model.json's
 * `userDefinedMetadata.lowwater` object when present (the bundled default model
 * carries them there): `{ normalization: InputNormalization, labels: string[] }`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { InputNormalization, LoadedModel } from '../../model.js';
import { importTfjsLayersModel, type TfjsImportOptions } from './importer.js';
import { parseWeightsManifest, TfjsModelError } from './weights.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The import options a model.json's `userDefinedMetadata.lowwater` carries (checked). */
export function lowwaterMetadata(modelJson: Record<string, unknown>, source: string): TfjsImportOptions {
  const meta = isRecord(modelJson.userDefinedMetadata) ? modelJson.userDefinedMetadata.lowwater : undefined;
  if (meta === undefined) return {};
  if (!isRecord(meta)) throw new TfjsModelError(source, 'userDefinedMetadata.lowwater must be an object');
  const out: TfjsImportOptions = {};
  const n = meta.normalization;
  if (n !== undefined) {
    const ok =
      isRecord(n) &&
      Number.isFinite(n.scale) &&
      ((n.kind === 'affine' && Number.isFinite(n.offset)) || (n.kind === 'quantized' && Number.isInteger(n.zeroPoint)));
    if (!ok)
      throw new TfjsModelError(
        source,
        `userDefinedMetadata.lowwater.normalization ${JSON.stringify(n)} is not {kind:'affine',scale,offset} or {kind:'quantized',scale,zeroPoint}`,
      );
    out.normalization = n as unknown as InputNormalization;
  }
  if (meta.labels !== undefined) {
    if (!Array.isArray(meta.labels) || meta.labels.some((l) => typeof l !== 'string'))
      throw new TfjsModelError(source, 'userDefinedMetadata.lowwater.labels must be an array of strings');
    out.labels = meta.labels as string[];
  }
  return out;
}

/**
 * Imports `model.json`: the graph now, from the topology and the manifest's
 * shapes; the shards the manifest names (beside model.json) are read when the
 * executor first asks for a constant, after planning, and each constant is
 * computed then, one at a time.
 */
export async function loadTfjsLayersFile(modelJsonPath: string): Promise<LoadedModel> {
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.message;
    throw new TfjsModelError(modelJsonPath, `cannot read the model: ${why}`);
  }
  if (!isRecord(modelJson)) throw new TfjsModelError(modelJsonPath, 'model.json is not an object');
  const groups = parseWeightsManifest(modelJson.weightsManifest, modelJsonPath);
  const files = groups.flatMap((g) =>
    g.paths.map((p) => {
      if (!/^[\w.-]+$/.test(p) || p.startsWith('..'))
        throw new TfjsModelError(modelJsonPath, `weight path '${p}' is not a plain file name`);
      return join(dirname(modelJsonPath), p);
    }),
  );
  const shards = (): Uint8Array => {
    const parts = files.map((file) => {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new TfjsModelError(
          modelJsonPath,
          `cannot read weight shard ${file}: ${(e as NodeJS.ErrnoException).code}`,
        );
      }
    });
    return parts.length === 1 ? new Uint8Array(parts[0]!) : new Uint8Array(Buffer.concat(parts));
  };
  return importTfjsLayersModel(modelJson, shards, modelJsonPath, lowwaterMetadata(modelJson, modelJsonPath));
}
