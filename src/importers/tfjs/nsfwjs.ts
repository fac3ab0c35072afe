/**
 * The MobileNetV2 that the npm package `nsfwjs` ships, read from the installed
 * package without running its JavaScript.
 *
 * nsfwjs 4.x bundles each model as browserify standalone `.min.js` files:
 * `dist/models/mobilenet_v2/model.min.js` exports the model.json as a
 * minified object literal, and `group1-shard1of1.min.js` (one file per
 * `weightsManifest` path, named `<path>.min.js`) exports the shard's bytes as
 * one base64 string literal (nsfwjs decodes it with `Buffer.from(s, 'base64')`).
 * jsliteral.ts parses those literals as data.
 *
 * nsfwjs is a devDependency of lowwater (its TensorFlow.js peer dependency is
 * ~300 MB); when it is absent the loader throws ModelNotAvailableError.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { ModelNotAvailableError, type LoadedModel } from '../../model.js';

export { ModelNotAvailableError };
import { importTfjsLayersModel } from './importer.js';
import { readUmdExport } from './jsliteral.js';
import { parseWeightsManifest, TfjsModelError } from './weights.js';

/** The nsfwjs MobileNetV2's output classes, in output order (nsfwjs `NSFW_CLASSES`). */
export const NSFWJS_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;

const HOW_TO_GET =
  'nsfwjs is a devDependency of lowwater (it is not installed with lowwater itself because its TensorFlow.js peer dependency is about 300 MB). ' +
  "In a clone of lowwater run 'npm ci' (or 'npm install --include=dev'); elsewhere run 'npm install nsfwjs --legacy-peer-deps' " +
  '(lowwater reads only the model files inside nsfwjs, so TensorFlow.js is not needed).';

/**
 * The root folder of the installed nsfwjs package, resolved the way Node
 * resolves `import 'nsfwjs'` from `fromUrl` (default: this module).
 */
export function findNsfwjsPackage(fromUrl: string | URL = import.meta.url): { root: string; version: string } {
  let entry: string;
  try {
    entry = createRequire(fromUrl).resolve('nsfwjs');
  } catch (e) {
    throw new ModelNotAvailableError(
      `the nsfw_mobilenet_v2 model needs the npm package nsfwjs, which is not installed (${(e as Error).message.split('\n')[0]}). ${HOW_TO_GET}`,
    );
  }
  // The package's "exports" hide package.json; walk up from its entry point.
  for (let dir = dirname(entry); dir !== parse(dir).root; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (!existsSync(pj)) continue;
    const meta = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
    if (meta.name === 'nsfwjs') return { root: dir, version: meta.version ?? 'unknown' };
  }
  throw new ModelNotAvailableError(
    `nsfwjs resolves to '${entry}' but no package.json named nsfwjs encloses it. ${HOW_TO_GET}`,
  );
}

/** model.json and concatenated weight shards of a bundled nsfwjs model (`mobilenet_v2`, …). */
export function readNsfwjsModelFiles(
  root: string,
  version: string,
  model = 'mobilenet_v2',
): { modelJson: Record<string, unknown>; weights: Uint8Array; modelFile: string } {
  const dir = join(root, 'dist', 'models', model);
  const modelFile = join(dir, 'model.min.js');
  if (!existsSync(modelFile)) {
    throw new ModelNotAvailableError(
      `nsfwjs ${version} at ${root} has no ${join('dist', 'models', model, 'model.min.js')} (lowwater reads the bundled models of nsfwjs 4.x). ${HOW_TO_GET}`,
    );
  }
  const modelJson = readUmdExport(readFileSync(modelFile, 'utf8'), modelFile);
  if (typeof modelJson !== 'object' || modelJson === null || Array.isArray(modelJson))
    throw new TfjsModelError(modelFile, 'does not export a model.json object');
  const groups = parseWeightsManifest((modelJson as Record<string, unknown>).weightsManifest, modelFile);
  const shards: Uint8Array[] = [];
  for (const g of groups) {
    for (const p of g.paths) {
      if (!/^[\w.-]+$/.test(p)) throw new TfjsModelError(modelFile, `weight path '${p}' is not a plain file name`);
      const file = join(dir, `${p}.min.js`);
      if (!existsSync(file))
        throw new ModelNotAvailableError(`nsfwjs ${version}: weight bundle ${file} is missing. ${HOW_TO_GET}`);
      const b64 = readUmdExport(readFileSync(file, 'utf8'), file);
      if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
        throw new TfjsModelError(file, 'does not export a base64 string');
      }
      shards.push(new Uint8Array(Buffer.from(b64, 'base64')));
    }
  }
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let off = 0;
  for (const s of shards) {
    weights.set(s, off);
    off += s.byteLength;
  }
  return { modelJson: modelJson as Record<string, unknown>, weights, modelFile };
}

/**
 * Loads nsfwjs's MobileNetV2 (224x224x3 RGB, pixels divided by 255, 5 softmax outputs).
 * Throws ModelNotAvailableError when nsfwjs is not installed.
 */
export async function loadNsfwjsMobileNetV2(options: { resolveFrom?: string | URL } = {}): Promise<LoadedModel> {
  const { root, version } = findNsfwjsPackage(options.resolveFrom);
  const { modelJson, weights, modelFile } = readNsfwjsModelFiles(root, version, 'mobilenet_v2');
  const model = importTfjsLayersModel(modelJson, weights, modelFile, {
    normalization: { kind: 'affine', scale: 1 / 255, offset: 0 },
    labels: [...NSFWJS_CLASSES],
  });
  const { height, width, channels } = model.input;
  if (height !== 224 || width !== 224 || channels !== 3)
    throw new TfjsModelError(modelFile, `expected a 224x224x3 input, the model has ${height}x${width}x${channels}`);
  const out = model.graph.tensors[model.graph.outputs[0]!]!;
  if (model.graph.outputs.length !== 1 || out.shape.join(',') !== `1,${NSFWJS_CLASSES.length}`) {
    throw new TfjsModelError(
      modelFile,
      `expected one [1,${NSFWJS_CLASSES.length}] output, got ${model.graph.outputs.map((o) => `[${model.graph.tensors[o]!.shape.join(',')}]`).join(', ')}`,
    );
  }
  return model;
}
