/**
 * Build step (`npm run build:model`): writes the default model into the
 * package, so that an installed lowwater classifies offline without nsfwjs or
 * TensorFlow.js. The model is the Keras MobileNetV2 the npm package nsfwjs
 * (MIT) ships as browserify bundles of base64 text; it is written back in the
 * plain TensorFlow.js layers format: `model.json` (its manifest pointing at
 * `weights.bin`), `weights.bin` (the shards' bytes, unchanged: tfjs uint8
 * affine-quantized storage, 2.6 MB), nsfwjs's LICENSE, and in
 * `userDefinedMetadata.lowwater` the input normalization (pixels / 255) and
 * the five class names, which the format itself does not carry.
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../package_root.js';
import { findNsfwjsPackage, NSFWJS_CLASSES, readNsfwjsModelFiles } from '../importers/tfjs/nsfwjs.js';

/** Folder of the bundled default model, relative to the package root. */
export const BUNDLED_MODEL_DIR = join('build', 'models', 'nsfw_mobilenet_v2');

export async function writeBundledDefaultModel(outDir = join(packageRoot(), BUNDLED_MODEL_DIR)): Promise<string> {
  const { root, version } = findNsfwjsPackage();
  const { modelJson, weights } = readNsfwjsModelFiles(root, version, 'mobilenet_v2');
  const manifest = modelJson.weightsManifest as { paths: string[]; weights: unknown[] }[];
  const json = {
    ...modelJson,
    weightsManifest: [{ paths: ['weights.bin'], weights: manifest.flatMap((g) => g.weights) }],
    userDefinedMetadata: {
      lowwater: {
        source: `nsfwjs ${version} dist/models/mobilenet_v2 (MIT, see LICENSE)`,
        normalization: { kind: 'affine', scale: 1 / 255, offset: 0 },
        labels: [...NSFWJS_CLASSES],
      },
    },
  };
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'model.json'), JSON.stringify(json));
  await writeFile(join(outDir, 'weights.bin'), weights);
  await copyFile(join(root, 'LICENSE'), join(outDir, 'LICENSE'));
  return outDir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = await writeBundledDefaultModel();
  process.stdout.write(`wrote the default model to ${dir}\n`);
}
