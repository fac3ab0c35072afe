/**
 * A tfjs layers model on disk: `model.json` and the weight shard files its
 * `weightsManifest` names, in the same folder (the TensorFlow.js format).
 *
 * How pixels become the model's input and the labels of its outputs are not
 * part of that format; lowwater reads them from the model.json's
 * `userDefinedMetadata.lowwater` object when present (the bundled default model
 * carries them there): `{ normalization: InputNormalization, labels: string[] }`.
 */
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

/** Reads `model.json` and its shards (named by the manifest, beside it) and imports the model. */
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
  const shards: Uint8Array[] = [];
  for (const g of groups) {
    for (const p of g.paths) {
      if (!/^[\w.-]+$/.test(p) || p.startsWith('..'))
        throw new TfjsModelError(modelJsonPath, `weight path '${p}' is not a plain file name`);
      const file = join(dirname(modelJsonPath), p);
      try {
        shards.push(new Uint8Array(await readFile(file)));
      } catch (e) {
        throw new TfjsModelError(
          modelJsonPath,
          `cannot read weight shard ${file}: ${(e as NodeJS.ErrnoException).code}`,
        );
      }
    }
  }
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let off = 0;
  for (const s of shards) {
    weights.set(s, off);
    off += s.byteLength;
  }
  return importTfjsLayersModel(modelJson, weights, modelJsonPath, lowwaterMetadata(modelJson, modelJsonPath));
}
