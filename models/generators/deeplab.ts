/**
 * Mobile DeepLabv3 (Sandler et al. 2018, Section 6.3 and Table 7, row
 * "MNet V2*, OS 16, no ASPP, no MF"), laid out like the TF DeepLab export that the
 * fixture `deeplabv3_mnv2_pascal_quant.tflite` comes from:
 *
 *   input ─ MobileNetV2 to block 16 (320 ch; "second last feature map"), output stride 16
 *     ├─ image pooling: average over the map (1x1) → 1x1 conv 256 + ReLU → bilinear resize back
 *     └─ aspp0: 1x1 conv 256 + ReLU
 *   concat (512) → 1x1 projection 256 + ReLU → logits 1x1 conv (classes, with bias)
 *   → bilinear resize to the input size (align_corners) → arg-max over classes
 *
 * - Output stride 16 (or 8): the strided blocks past it run at stride 1 and later
 *   depthwise convs are dilated (TF-slim's rule, see addMobileNetV2Backbone): at OS 16
 *   block 13 keeps stride 1, rate 1 and blocks 14–16 use rate 2, as the fixture has.
 * - The last 1x1 conv (1280) is not built: DeepLab reads block 16's 320 channels.
 * - Resizes use align_corners = true, half_pixel_centers = false, as in the fixture.
 *   The fixture also has a 33x33 → 33x33 resize of the logits and a requantize op,
 *   both no-ops in float; they are left out.
 * - Width multiplier: TF DeepLab rounds MobileNetV2's scaled widths to multiples of 8 only
 *   at width 1 (`divisible_by` and `min_depth` are 1 otherwise: the dm05 fixture has 12
 *   channels where TF-slim classification models have 16). The head keeps 256 channels.
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { DType, Graph } from '../../planner/ir.js';
import { Layers } from '../layers.js';
import { addMobileNetV2Backbone } from '../mobilenet_v2.js';

/** Channels of the DeepLabv3 head branches (TF DeepLab `depth`). */
export const DEEPLAB_HEAD_CHANNELS = 256;

export interface DeepLabV3Options {
  alpha?: number;
  /** Input height and width (default 513, as the exported PASCAL models). */
  resolution?: number;
  outputStride?: 8 | 16;
  /** Segmentation classes (default 21, PASCAL VOC with background). */
  classes?: number;
  /** End with the arg-max class map (default); false = end at the resized logits. */
  argmax?: boolean;
  dtype?: DType;
}

export function buildDeepLabV3(options: DeepLabV3Options = {}): Graph {
  const alpha = options.alpha ?? 1.0;
  const res = options.resolution ?? 513;
  const outputStride = options.outputStride ?? 16;
  const classes = options.classes ?? 21;
  if (outputStride !== 8 && outputStride !== 16)
    throw new Error(`DeepLabV3: output stride ${String(outputStride)} must be 8 or 16`);
  if (!Number.isInteger(classes) || classes < 1)
    throw new Error(`DeepLabV3: classes ${classes} must be a positive integer`);
  const L = new Layers(
    new GraphBuilder(`deeplabv3_mobilenet_v2_${alpha}_${res}_os${outputStride}`),
    options.dtype ?? 'f32',
  );
  // TF DeepLab's feature extractor: divisible_by and min_depth are 8 at width 1 and 1 otherwise.
  const rounding = alpha === 1 ? 8 : 1;
  const net = addMobileNetV2Backbone(L, {
    alpha,
    resolution: res,
    outputStride,
    lastConvChannels: 0,
    divisibleBy: rounding,
    minDepth: rounding,
  });
  const features = net.blocks[net.blocks.length - 1]!;
  const [, fh, fw] = L.shape(features);

  // Same op order as the fixture: pool, aspp0, image-pooling conv, resize, concat.
  const pooled = L.globalAvgPool('image_pooling/pool', features, true);
  const aspp0 = L.conv('aspp0', features, DEEPLAB_HEAD_CHANNELS, { act: 'relu' });
  let image = L.conv('image_pooling', pooled, DEEPLAB_HEAD_CHANNELS, { act: 'relu' });
  image = L.resizeBilinear('image_pooling/resize', image, [fh!, fw!], true);
  let x = L.concat('concat', [image, aspp0]);
  x = L.conv('concat_projection', x, DEEPLAB_HEAD_CHANNELS, { act: 'relu' });
  x = L.conv('logits/semantic', x, classes);
  x = L.resizeBilinear('logits/resize', x, [res, res], true);
  if (options.argmax ?? true) x = L.argmax('ArgMax', x, 3);
  L.g.output(x);
  return L.g.finish();
}
