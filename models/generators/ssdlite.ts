/**
 * SSDLite on MobileNetV2 (Sandler et al. 2018, Section 6.2), laid out like the
 * TF object-detection API's `ssdlite_mobilenet_v2` (feature extractor
 * `ssd_mobilenet_v2_feature_extractor.py`, convolutional box predictor with
 * `use_depthwise: true`, kernel 3).
 *
 *   input ─ MobileNetV2 ─┬─ block 13 expand (576, stride 16) ────────────── head 0
 *                        └─ Conv_1 (1280, stride 32) ───────────────────── head 1
 *                             └─ 1x1 256 → dw 3x3/2 → 1x1 512 (stride 64) ── head 2
 *                                  └─ 1x1 128 → dw 3x3/2 → 1x1 256 ──────── head 3
 *                                       └─ 1x1 128 → dw 3x3/2 → 1x1 256 ─── head 4
 *                                            └─ 1x1 64 → dw 3x3/2 → 1x1 128 head 5
 *   head i: box  = dw 3x3 (ReLU6) → 1x1 conv, anchors_i·4 channels
 *           class = dw 3x3 (ReLU6) → 1x1 conv, anchors_i·classes channels
 *
 * - "The first layer of SSDLite is attached to the expansion of layer 15 (with
 *   output stride of 16). The second and the rest of SSDLite layers are attached on
 *   top of the last layer (with output stride of 32)." TF-slim's layer_15 is our
 *   block 13 (`expanded_conv_13`; layer_1 is the first conv).
 * - Extra feature layers: depths 512, 256, 256, 128, each a 1x1 conv to half the
 *   depth, a 3x3 stride-2 depthwise, a 1x1 conv to the depth (all BN + ReLU6), as
 *   `multi_resolution_feature_maps` with `insert_1x1_conv` and `use_depthwise`.
 * - Every prediction conv is a 3x3 depthwise + 1x1 ("We replace all the regular
 *   convolutions with separable convolutions (depthwise followed by 1x1
 *   projection) in SSD prediction layers"). With `lite: false` the predictors and
 *   the extra layers' stride-2 convs are regular 3x3 convs: the SSD row of Table 5.
 * - Outputs, as the API's raw outputs before post-processing: `box_encodings`
 *   [1, anchors, 4] and `class_predictions` [1, anchors, classes], each the
 *   concatenation of the heads reshaped to [1, H·W·A, n] (anchor order: row, column,
 *   anchor). Anchor generation, decoding and NMS are not graph ops.
 * - `classes` counts every score channel, background included: 91 for the released
 *   COCO model (90 category ids + background); the paper's "80 classes" is 81.
 * - Width multiplier below or above 1: as the API's feature extractor, which scales
 *   every MobileNetV2 layer including the last conv (TF-slim `mobilenet_base`) with
 *   `min_depth` 16, and the extra layers as max(floor(depth·alpha), 16).
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { DType, Graph } from '../../planner/ir.js';
import { Layers } from '../layers.js';
import { addMobileNetV2Backbone, makeDivisible } from '../mobilenet_v2.js';

export const SSDLITE_EXTRA_DEPTHS = [512, 256, 256, 128] as const;
/** TF object-detection API `min_depth` of ssdlite_mobilenet_v2. */
const MIN_DEPTH = 16;

export interface SSDLiteOptions {
  alpha?: number;
  /** Input height and width (default 320, as in the paper). */
  resolution?: number;
  /** Score channels per anchor, background included (default 91). */
  classes?: number;
  /** Anchors per feature-map location of the six heads (default [3, 6, 6, 6, 6, 6]: the API's `reduce_boxes_in_lowest_layer`). */
  anchorsPerLocation?: number[];
  /** false = regular SSD: 3x3 convs in the predictors and the extra layers (paper Table 5, first row). */
  lite?: boolean;
  dtype?: DType;
}

export function buildSSDLite(options: SSDLiteOptions = {}): Graph {
  const alpha = options.alpha ?? 1.0;
  const res = options.resolution ?? 320;
  const classes = options.classes ?? 91;
  const anchors = options.anchorsPerLocation ?? [3, 6, 6, 6, 6, 6];
  const lite = options.lite ?? true;
  if (anchors.length !== 2 + SSDLITE_EXTRA_DEPTHS.length || anchors.some((a) => !Number.isInteger(a) || a < 1)) {
    throw new Error(
      `SSDLite: anchorsPerLocation [${anchors.join(',')}] must be ${2 + SSDLITE_EXTRA_DEPTHS.length} positive integers, one per feature map`,
    );
  }
  if (!Number.isInteger(classes) || classes < 1)
    throw new Error(`SSDLite: classes ${classes} must be a positive integer`);
  const L = new Layers(
    new GraphBuilder(`${lite ? 'ssdlite' : 'ssd'}_mobilenet_v2_${alpha}_${res}`),
    options.dtype ?? 'f32',
  );
  const net = addMobileNetV2Backbone(L, {
    alpha,
    resolution: res,
    minDepth: MIN_DEPTH,
    lastConvChannels: makeDivisible(1280 * alpha, 8, MIN_DEPTH),
  });

  const depth = (d: number) => Math.max(Math.floor(d * alpha), MIN_DEPTH);
  const features = [net.expansions[13]!, net.lastConv];
  let x = net.lastConv;
  SSDLITE_EXTRA_DEPTHS.forEach((d, i) => {
    const name = `FeatureMaps/layer_19_${i + 2}`;
    x = L.conv(`${name}/Conv2d_1x1_${depth(d / 2)}`, x, depth(d / 2), { act: 'relu6' });
    if (lite) {
      x = L.depthwise(`${name}/Conv2d_3x3_s2_depthwise`, x, { stride: 2, act: 'relu6' });
      x = L.conv(`${name}/Conv2d_3x3_s2_${depth(d)}`, x, depth(d), { act: 'relu6' });
    } else {
      x = L.conv(`${name}/Conv2d_3x3_s2_${depth(d)}`, x, depth(d), { kernel: 3, stride: 2, act: 'relu6' });
    }
    features.push(x);
  });

  const boxes: number[] = [];
  const scores: number[] = [];
  features.forEach((f, i) => {
    const [, h, w] = L.shape(f);
    const n = h! * w! * anchors[i]!;
    const predict = (what: string, perAnchor: number): number => {
      const name = `BoxPredictor_${i}/${what}`;
      const y = lite
        ? L.conv(name, L.depthwise(`${name}_depthwise`, f, { act: 'relu6' }), anchors[i]! * perAnchor)
        : L.conv(name, f, anchors[i]! * perAnchor, { kernel: 3 });
      return L.reshape(`${name}/reshape`, y, [1, n, perAnchor]);
    };
    boxes.push(predict('BoxEncodingPredictor', 4));
    scores.push(predict('ClassPredictor', classes));
  });
  L.g.output(L.concat('box_encodings', boxes, 1));
  L.g.output(L.concat('class_predictions', scores, 1));
  return L.g.finish();
}

/**
 * [height, width] of the feature maps the six SSDLite heads read, finest
 * first: the grids the SSD anchor generator tiles (src/detect/anchors.ts),
 * in the order of the heads' anchors in box_encodings.
 */
export function ssdliteFeatureMaps(graph: Graph): [number, number][] {
  const byName = new Map(graph.ops.map((o) => [o.name, o]));
  const maps: [number, number][] = [];
  for (let i = 0; ; i++) {
    // SSDLite heads start with a depthwise conv; SSD (lite: false) heads with a 3x3 conv.
    const head =
      byName.get(`BoxPredictor_${i}/BoxEncodingPredictor_depthwise`) ??
      byName.get(`BoxPredictor_${i}/BoxEncodingPredictor`);
    if (!head) break;
    const s = graph.tensors[head.inputs[0]!]!.shape;
    maps.push([s[1]!, s[2]!]);
  }
  if (maps.length === 0) throw new Error(`${graph.name}: no BoxPredictor heads (not an SSD graph from buildSSDLite)`);
  return maps;
}
