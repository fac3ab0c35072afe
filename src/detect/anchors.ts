/**
 * SSD anchors (default boxes) as the TF object-detection API's
 * `ssd_anchor_generator` makes them (Liu et al. 2016, Section 2.2;
 * `create_ssd_anchors` + `MultipleGridAnchorGenerator` + `tile_anchors`):
 *
 * - layer scales s_k = min + (max − min)·k/(L − 1), k = 0..L−1, then 1.0 as the
 *   "next" scale of the last layer;
 * - layer 0 with reduce_boxes_in_lowest_layer: (0.1, 1), (s_0, 2), (s_0, 1/2);
 *   every other layer: (s_k, a) for each aspect ratio a, plus
 *   (√(s_k·s_{k+1}), interpolated aspect ratio) when that ratio is > 0;
 * - box of (scale s, aspect a): height s/√a · base_h, width s·√a · base_w,
 *   where the base size [1, 1] is normalized to the shorter image side;
 * - centres on a grid of stride 1/H × 1/W at offset half a stride, in
 *   normalized image coordinates, not clipped;
 * - order: feature map, then row, then column, then box spec (the order the
 *   box predictor's reshape gives).
 *
 * Anchors are returned in center-size form (ycenter, xcenter, h, w), the form
 * TFLite_Detection_PostProcess takes as its third input.
 */

export interface AnchorBoxSpec {
  scale: number;
  aspectRatio: number;
}

export interface SsdAnchorOptions {
  /** Number of feature maps (default 6). */
  numLayers?: number;
  /** Scale of the finest map (default 0.2). */
  minScale?: number;
  /** Scale of the coarsest map (default 0.95). */
  maxScale?: number;
  /** Explicit per-layer scales (overrides min/max). */
  scales?: number[];
  /** Default [1, 2, 0.5, 3, 0.3333], as the released ssd(lite)_mobilenet_v2 pipeline configs write them. */
  aspectRatios?: number[];
  /** Aspect ratio of the extra box at the interpolated scale (default 1; 0 = no extra box). */
  interpolatedScaleAspectRatio?: number;
  /** Three fixed boxes on the first map (default true). */
  reduceBoxesInLowestLayer?: boolean;
  /** [height, width] before normalization to the shorter image side (default [1, 1]). */
  baseAnchorSize?: [number, number];
}

export const SSD_ASPECT_RATIOS = [1.0, 2.0, 0.5, 3.0, 0.3333] as const;

/** The (scale, aspect ratio) pairs of every layer. */
export function ssdBoxSpecs(options: SsdAnchorOptions = {}): AnchorBoxSpec[][] {
  const L = options.numLayers ?? 6;
  const minScale = options.minScale ?? 0.2;
  const maxScale = options.maxScale ?? 0.95;
  const ratios = options.aspectRatios ?? [...SSD_ASPECT_RATIOS];
  const interpolated = options.interpolatedScaleAspectRatio ?? 1.0;
  const reduce = options.reduceBoxesInLowestLayer ?? true;
  if (!(Number.isInteger(L) && L >= 1)) throw new Error(`SSD anchors: numLayers ${L} must be a positive integer`);
  let scales: number[];
  if (options.scales && options.scales.length > 0) {
    if (options.scales.length !== L) throw new Error(`SSD anchors: ${options.scales.length} scales for ${L} layers`);
    scales = [...options.scales, 1.0];
  } else {
    // One layer: min_scale (TF would divide by zero; the single map takes the finest scale).
    scales = [
      ...Array.from({ length: L }, (_, i) => (L === 1 ? minScale : minScale + ((maxScale - minScale) * i) / (L - 1))),
      1.0,
    ];
  }
  for (const a of ratios) if (!(a > 0)) throw new Error(`SSD anchors: aspect ratio ${a} must be positive`);
  const specs: AnchorBoxSpec[][] = [];
  for (let k = 0; k < L; k++) {
    const s = scales[k]!;
    if (k === 0 && reduce) {
      specs.push([
        { scale: 0.1, aspectRatio: 1.0 },
        { scale: s, aspectRatio: 2.0 },
        { scale: s, aspectRatio: 0.5 },
      ]);
      continue;
    }
    const layer = ratios.map((a) => ({ scale: s, aspectRatio: a }));
    if (interpolated > 0) layer.push({ scale: Math.sqrt(s * scales[k + 1]!), aspectRatio: interpolated });
    specs.push(layer);
  }
  return specs;
}

export interface GridAnchorOptions {
  /** Image [height, width], for normalizing the base anchor to the shorter side (default square). */
  imageSize?: [number, number];
  baseAnchorSize?: [number, number];
}

/**
 * Center-size anchors (ycenter, xcenter, h, w), 4 floats each, for feature maps
 * of the given [height, width] with one spec list per map.
 */
export function gridAnchors(
  featureMaps: readonly (readonly [number, number])[],
  specs: readonly (readonly AnchorBoxSpec[])[],
  options: GridAnchorOptions = {},
): Float32Array {
  if (featureMaps.length !== specs.length)
    throw new Error(`anchors: ${featureMaps.length} feature maps but ${specs.length} box spec lists`);
  const [imH, imW] = options.imageSize ?? [1, 1];
  const minSide = Math.min(imH, imW);
  const base = options.baseAnchorSize ?? [1, 1];
  const baseH = (minSide / imH) * base[0];
  const baseW = (minSide / imW) * base[1];
  let n = 0;
  featureMaps.forEach(([h, w], i) => {
    if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1))
      throw new Error(`anchors: feature map ${i} has size ${h}x${w}`);
    n += h * w * specs[i]!.length;
  });
  const out = new Float32Array(4 * n);
  let o = 0;
  featureMaps.forEach(([h, w], i) => {
    const sy = 1 / h;
    const sx = 1 / w;
    const boxes = specs[i]!.map(({ scale, aspectRatio }) => {
      const r = Math.sqrt(aspectRatio);
      return [(scale / r) * baseH, scale * r * baseW] as const;
    });
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (const [bh, bw] of boxes) {
          out[o++] = y * sy + 0.5 * sy;
          out[o++] = x * sx + 0.5 * sx;
          out[o++] = bh;
          out[o++] = bw;
        }
      }
    }
  });
  return out;
}

/** SSD anchors for the given feature maps (finest first). */
export function ssdAnchors(
  featureMaps: readonly (readonly [number, number])[],
  options: SsdAnchorOptions & GridAnchorOptions = {},
): Float32Array {
  return gridAnchors(
    featureMaps,
    ssdBoxSpecs({ ...options, numLayers: options.numLayers ?? featureMaps.length }),
    options,
  );
}

/** Corner form (ymin, xmin, ymax, xmax) of center-size boxes. */
export function centerSizeToCorners(boxes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const [yc, xc, h, w] = [boxes[i]!, boxes[i + 1]!, boxes[i + 2]!, boxes[i + 3]!];
    out[i] = yc - h / 2;
    out[i + 1] = xc - w / 2;
    out[i + 2] = yc + h / 2;
    out[i + 3] = xc + w / 2;
  }
  return out;
}
