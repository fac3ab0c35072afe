/**
 * `lowwater segment IMAGE... [--model NAME|FILE] [--out mask.png] [--overlay overlay.png] [--json]`
 */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../preprocess/image.js';
import { describeShape } from '../../planner/ir.js';
import { resizeNearest, writeMaskPng, writeOverlay, type ClassMap } from '../segment/index.js';
import { UsageError, type CliIO } from './io.js';
import { loadAndPrepare, RUN_OPTION_SPECS, runJson, runOptionsHelp, runSummary } from './run_command.js';

export const DEFAULT_SEGMENT_MODEL = 'deeplabv3_mnv2_pascal';

export const SEGMENT_HELP = `Usage: lowwater segment IMAGE... [options]

Labels every pixel of an image with a semantic segmentation model (Mobile
DeepLabv3 on MobileNetV2, paper Section 6.3), computed by lowwater's own
kernels inside one memory arena that the planner sized before loading weights.

Each image is decoded, resized as a whole (no crop, aspect ratio not kept) to
the model's input size (513x513 for the DeepLab models) with TensorFlow's
half-pixel bilinear rule, and run. The model's class map (the arg-max over the
class scores, at the model's input resolution) is the result:
  - the class counts, in pixels per class label;
  - the mask sha256: sha256 of the class ids at the model's resolution, one byte
    per pixel, row-major (the same bytes TFLite's ARG_MAX gives as uint8), so
    two runs or two engines can be compared exactly;
  - optionally a mask PNG and an overlay (see below).

Options:
  --model NAME|FILE   a registry name or a .tflite file (default: ${DEFAULT_SEGMENT_MODEL};
                      also deeplabv3_mnv2_dm05_pascal, width 0.5). Registry models are
                      looked up in $LOWWATER_MODELS, then the cache (~/.cache/lowwater),
                      then downloaded with a sha256 check. A file model must end with
                      class ids [1,H,W] (ARG_MAX) or class scores [1,H,W,C].
  --labels FILE       one label per line, line i = class id i (registry models bring
                      theirs; without labels, classes are named "class i")
  --out FILE          write the class map as an indexed PNG with the PASCAL VOC
                      palette, at the image's own size (nearest neighbour): the pixel
                      values are the class ids, viewers show the VOC colours
  --overlay FILE      write the image with the class colours blended over it (the
                      background class left clear); PNG, JPEG or WebP by extension
  --alpha A           opacity of the overlay colours, 0..1 (default 0.5)
                      With several images, --out and --overlay must contain {name}
                      (replaced by each image's file name without extension).
  --stream-head on|off
                      on (default): the model's final bilinear resize and arg-max run as
                      one fused op (resize_argmax) that computes each pixel's class from
                      its 4 source neighbours, so the resized class scores (513x513x21:
                      5.5 MB in uint8, 22 MB in float32, the largest tensor of DeepLab)
                      never exist and the planned arena holds only the class map; off runs
                      the resize and the arg-max as the file has them (the same class map)
  --json              print one JSON object: results[] with classCounts ({label:
                      pixels}), maskSha256, latencyMs; path (integer|float32), head
                      (fused|graph); memory (arena bytes planned and measured, weights,
                      WebAssembly memory: the head runs inside the arena)
${runOptionsHelp('4MiB')}

Which arithmetic runs is reported ("path"): the integer path (the default for
quantized files) reproduces TFLite's uint8 results exactly, mask sha256 included;
the float path on a quantized file (--float) is close to them (DeepLab 1.0: class
counts within 0.1% of TFLite) but not bit-equal, so its mask sha256 differs.

Examples:
  lowwater segment photo.jpg --overlay photo_seg.png
  lowwater segment bird.png --model deeplabv3_mnv2_dm05_pascal --out bird_mask.png --json
  lowwater segment a.jpg b.jpg --overlay 'out/{name}.png'
`;

export interface SegmentResult {
  image: string;
  inputSha256: string;
  /** [width, height] of the decoded image. */
  sourceSize: [number, number];
  /** [width, height] of the class map (the model's output resolution). */
  maskSize: [number, number];
  classCounts: Record<string, number>;
  maskSha256: string;
  /** The graph run (the fused head included). */
  latencyMs: number;
  out?: string;
  overlay?: string;
}

function outputPath(template: string | undefined, image: string, several: boolean, flag: string): string | undefined {
  if (template === undefined) return undefined;
  if (several && !template.includes('{name}'))
    throw new UsageError(`${flag} '${template}' needs {name} when several images are given`);
  return template.replaceAll('{name}', basename(image, extname(image)));
}

export async function segmentCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...RUN_OPTION_SPECS,
      out: { type: 'string' },
      overlay: { type: 'string' },
      alpha: { type: 'string', default: '0.5' },
      'stream-head': { type: 'string', default: 'on' },
    },
  });
  if (values.help) {
    io.stdout(SEGMENT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('segment needs at least one image');
  const streamHead = values['stream-head'];
  if (streamHead !== 'on' && streamHead !== 'off')
    throw new UsageError(`--stream-head must be on or off, got '${streamHead}'`);
  const alpha = Number(values.alpha);
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be a number from 0 to 1, got '${values.alpha}'`);
  const several = positionals.length > 1;
  for (const image of positionals) {
    outputPath(values.out, image, several, '--out');
    outputPath(values.overlay, image, several, '--overlay');
  }

  const prepared = await loadAndPrepare(values, io, {
    task: 'segment',
    defaultModel: DEFAULT_SEGMENT_MODEL,
    fuseResizeArgmax: streamHead === 'on',
  });
  const { model } = prepared;
  const head = model.info.fusedHead;
  const results: SegmentResult[] = [];
  for (const image of positionals) {
    const img = await decodeImage(image);
    const seg = await model.segment({ ...img, channels: 3 });
    const map: ClassMap = { width: seg.width, height: seg.height, ids: seg.classMap };
    const out = outputPath(values.out, image, several, '--out');
    const overlay = outputPath(values.overlay, image, several, '--overlay');
    if (out) await writeMaskPng(out, resizeNearest(map, img.width, img.height));
    if (overlay) await writeOverlay(overlay, img, map, { alpha });
    const r: SegmentResult = {
      image,
      inputSha256: seg.inputSha256,
      sourceSize: [img.width, img.height],
      maskSize: [map.width, map.height],
      classCounts: seg.classCounts,
      maskSha256: seg.maskSha256,
      latencyMs: seg.latencyMs,
      ...(out ? { out } : {}),
      ...(overlay ? { overlay } : {}),
    };
    results.push(r);
    if (!values.json) {
      io.stdout(`${image}  (${r.latencyMs.toFixed(1)} ms)`);
      const total = map.width * map.height;
      const rows = Object.entries(r.classCounts).sort((a, b) => b[1] - a[1]);
      const w = Math.max(...rows.map(([k]) => k.length));
      for (const [label, n] of rows)
        io.stdout(`  ${label.padEnd(w)}  ${((100 * n) / total).toFixed(2).padStart(6)}%  ${String(n).padStart(8)} px`);
      io.stdout(`  mask sha256 ${r.maskSha256} (${map.width}x${map.height})`);
      if (out) io.stdout(`  wrote ${out}`);
      if (overlay) io.stdout(`  wrote ${overlay}`);
    }
  }
  if (values.json) {
    io.stdout(JSON.stringify(runJson(prepared, results, { head: head ? 'fused' : 'graph' }), null, 2));
  } else {
    io.stdout(
      runSummary(prepared) +
        (head
          ? `\nhead: resize + arg-max fused ('${head.op}'): class ids computed from the ${describeShape(head.scoresShape)} scores inside the arena`
          : ''),
    );
  }
  return 0;
}
