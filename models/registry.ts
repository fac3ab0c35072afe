/**
 * Model registry: names a user can pass to `--model`, where each file comes
 * from, and the sha256 it must have. The default model ships inside the
 * package; the others are looked up in LOWWATER_MODELS, then in the user
 * cache, then downloaded (src/registry/fetch.ts).
 */

export interface RemoteFile {
  /** File name in LOWWATER_MODELS / the cache. */
  file: string;
  url: string;
  sha256: string;
}

export interface TfliteEntry {
  name: string;
  kind: 'tflite';
  task: 'classify' | 'segment';
  description: string;
  model: RemoteFile;
  labels: RemoteFile;
  /** Label line of output index 0 (the files list a background class first when the model has one). */
  labelOffset: number;
}

/**
 * A model shipped inside the lowwater package (build/models/<dir>, written by
 * `npm run build:model`): works offline, nothing to download.
 */
export interface BundledEntry {
  name: string;
  kind: 'bundled';
  task: 'classify';
  description: string;
  /** Folder under build/models holding model.json and weights.bin (TensorFlow.js layers format). */
  dir: string;
  /** Where the weights come from and under which licence. */
  origin: string;
}

export type RegistryEntry = TfliteEntry | BundledEntry;

// Coral's public test_data repository publishes these files (Apache-2.0 models).
const CORAL = 'https://github.com/google-coral/test_data/raw/master/';

const imagenetLabels: RemoteFile = {
  file: 'imagenet_labels.txt',
  url: `${CORAL}imagenet_labels.txt`,
  sha256: 'b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1',
};

export const REGISTRY: readonly RegistryEntry[] = [
  {
    name: 'nsfw_mobilenet_v2',
    kind: 'bundled',
    task: 'classify',
    description: 'Keras MobileNetV2 1.0/224 of the npm package nsfwjs (5 classes), float32; ships with lowwater',
    dir: 'nsfw_mobilenet_v2',
    origin: 'nsfwjs 4.x (MIT), bundled in the lowwater package',
  },
  {
    name: 'mobilenet_v2_1.0_224',
    kind: 'tflite',
    task: 'classify',
    description: 'MobileNetV2 1.0/224 ImageNet, TFLite uint8 (TF1 quantization-aware), 1001 classes',
    model: {
      file: 'mobilenet_v2_1.0_224_quant.tflite',
      url: `${CORAL}mobilenet_v2_1.0_224_quant.tflite`,
      sha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776',
    },
    labels: imagenetLabels,
    labelOffset: 0,
  },
  {
    name: 'tf2_mobilenet_v2_1.0_224_ptq',
    kind: 'tflite',
    task: 'classify',
    description: 'MobileNetV2 1.0/224 ImageNet, TFLite int8 post-training quantization (per-channel)',
    model: {
      file: 'tf2_mobilenet_v2_1.0_224_ptq.tflite',
      url: `${CORAL}tf2_mobilenet_v2_1.0_224_ptq.tflite`,
      sha256: '5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c',
    },
    labels: imagenetLabels,
    labelOffset: 0,
  },
  {
    name: 'mobilenet_v2_1.0_224_inat_bird',
    kind: 'tflite',
    task: 'classify',
    description: 'MobileNetV2 1.0/224 fine-tuned on iNaturalist birds, TFLite uint8, 965 classes',
    model: {
      file: 'mobilenet_v2_1.0_224_inat_bird_quant.tflite',
      url: `${CORAL}mobilenet_v2_1.0_224_inat_bird_quant.tflite`,
      sha256: '350fcd8cf1df1560060d464595dfed8b174b05792788052896004848d9ad04f9',
    },
    labels: {
      file: 'inat_bird_labels.txt',
      url: `${CORAL}inat_bird_labels.txt`,
      sha256: 'a16108dfe3f8daff015b87a97ab6a17e717b9b1bccd719f6d8f747746d7b9277',
    },
    labelOffset: 0,
  },
  {
    name: 'deeplabv3_mnv2_pascal',
    kind: 'tflite',
    task: 'segment',
    description: 'Mobile DeepLabv3 on MobileNetV2 (paper Section 6.3), PASCAL VOC 21 classes, TFLite uint8, 513x513',
    model: {
      file: 'deeplabv3_mnv2_pascal_quant.tflite',
      url: `${CORAL}deeplabv3_mnv2_pascal_quant.tflite`,
      sha256: '350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398',
    },
    labels: {
      file: 'pascal_voc_segmentation_labels.txt',
      url: `${CORAL}pascal_voc_segmentation_labels.txt`,
      sha256: '7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e',
    },
    labelOffset: 0,
  },
  {
    name: 'deeplabv3_mnv2_dm05_pascal',
    kind: 'tflite',
    task: 'segment',
    description: 'Mobile DeepLabv3, MobileNetV2 depth multiplier 0.5, PASCAL VOC, TFLite uint8, 513x513',
    model: {
      file: 'deeplabv3_mnv2_dm05_pascal_quant.tflite',
      url: `${CORAL}deeplabv3_mnv2_dm05_pascal_quant.tflite`,
      sha256: '0470d2a782aa54eeeb99d32e7b6b3fb7722905c7c4f5d26bd957ec861366d48b',
    },
    labels: {
      file: 'pascal_voc_segmentation_labels.txt',
      url: `${CORAL}pascal_voc_segmentation_labels.txt`,
      sha256: '7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e',
    },
    labelOffset: 0,
  },
];

export function findRegistryEntry(name: string): RegistryEntry | undefined {
  return REGISTRY.find((e) => e.name === name);
}
