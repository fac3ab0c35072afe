/**
 * `lowwater detect IMAGE... --model FILE [--labels FILE] [--out boxes.png] [--json]`
 */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../preprocess/image.js';
import { drawDetections, type PixelBox } from '../detect/draw.js';
import { UsageError, type CliIO } from './io.js';
import { loadAndPrepare, RUN_OPTION_SPECS, runJson, runOptionsHelp, runSummary } from './run_command.js';

export const DETECT_HELP = `Usage: lowwater detect IMAGE... --model FILE [options]

Finds objects with an SSD / SSDLite detector (paper Section 6.2) exported to
TFLite with its TFLite_Detection_PostProcess op (the TF object-detection API's
export_tflite_ssd_graph.py / export_tflite_graph_tf2.py). lowwater plans and
runs the network in one arena; the post-process op then runs as TFLite's does:
box decoding against the file's anchors (center-size coder, the op's y/x/h/w
scales), and non-maximum suppression, class-agnostic or per class
(use_regular_nms), with the op's own score and IoU thresholds and maximum
detection count.

Each image is decoded, resized as a whole (no crop, aspect ratio not kept) to
the model's input size with TensorFlow's half-pixel bilinear rule, and run.
Boxes are reported in normalized coordinates (0..1 of the image, ymin, xmin,
ymax, xmax) and in pixels of the original image.

Options:
  --model FILE        a .tflite SSD model with TFLite_Detection_PostProcess
  --labels FILE       one label per line, line i = class id i (background not
                      counted: for COCO models line 0 is "person")
  --threshold S       report only detections scoring ≥ S (default: all the op keeps;
                      its own nms_score_threshold applies first)
  --out FILE          write the image with the boxes drawn (PNG, JPEG or WebP by
                      extension); with several images it must contain {name}
  --json              print one JSON object: results[].detections[] ({classId,
                      label, score, box: {ymin, xmin, ymax, xmax}, pixels: {left,
                      top, right, bottom}}), latencies, the post-process options,
                      the numeric path and memory
${runOptionsHelp('4MiB')}

Examples:
  lowwater detect street.jpg --model ssdlite_mobilenet_v2.tflite --labels coco_labels.txt --out boxes.png
  lowwater detect a.jpg b.jpg --model ssd.tflite --json --threshold 0.5
`;

export interface DetectResult {
  image: string;
  inputSha256: string;
  sourceSize: [number, number];
  detections: {
    classId: number;
    label: string;
    score: number;
    box: { ymin: number; xmin: number; ymax: number; xmax: number };
    pixels: { left: number; top: number; right: number; bottom: number };
  }[];
  latencyMs: number;
  postprocessMs: number;
  out?: string;
}

export async function detectCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...RUN_OPTION_SPECS, threshold: { type: 'string' }, out: { type: 'string' } },
  });
  if (values.help) {
    io.stdout(DETECT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('detect needs at least one image');
  if (values.model === undefined)
    throw new UsageError('detect needs --model FILE (a .tflite SSD with TFLite_Detection_PostProcess)');
  const threshold = values.threshold === undefined ? -Infinity : Number(values.threshold);
  if (Number.isNaN(threshold)) throw new UsageError(`--threshold must be a number, got '${values.threshold}'`);
  const several = positionals.length > 1;
  if (values.out !== undefined && several && !values.out.includes('{name}'))
    throw new UsageError(`--out '${values.out}' needs {name} when several images are given`);

  const prepared = await loadAndPrepare(values, io, { task: 'detect' });
  const { model } = prepared;
  const post = model.info.postprocess;
  if (!post)
    throw new Error(
      `${model.info.description}: the model has no TFLite_Detection_PostProcess op; lowwater detect needs an SSD exported with it (TF object detection export_tflite_ssd_graph.py)`,
    );
  const results: DetectResult[] = [];
  for (const image of positionals) {
    const img = await decodeImage(image);
    const found = await model.detect({ ...img, channels: 3 }, { threshold });
    const { detections, postprocessMs } = found;
    const out = values.out?.replaceAll('{name}', basename(image, extname(image)));
    if (out)
      await drawDetections(
        out,
        img,
        detections.map((d): PixelBox => ({ label: d.label, classId: d.classId, score: d.score, ...d.pixels })),
      );
    results.push({
      image,
      inputSha256: found.inputSha256,
      sourceSize: [img.width, img.height],
      detections,
      latencyMs: found.latencyMs,
      postprocessMs,
      ...(out ? { out } : {}),
    });
    if (!values.json) {
      io.stdout(
        `${image}  (${found.latencyMs.toFixed(1)} ms + post-process ${postprocessMs.toFixed(1)} ms): ${detections.length} detection${detections.length === 1 ? '' : 's'}`,
      );
      for (const d of detections) {
        const p = d.pixels;
        io.stdout(
          `  ${d.score.toFixed(3)}  ${d.label.padEnd(16)}  [${p.left.toFixed(0)}, ${p.top.toFixed(0)}, ${p.right.toFixed(0)}, ${p.bottom.toFixed(0)}]`,
        );
      }
      if (out) io.stdout(`  wrote ${out}`);
    }
  }
  if (values.json) {
    io.stdout(JSON.stringify(runJson(prepared, results, { postprocess: post }), null, 2));
  } else io.stdout(runSummary(prepared));
  return 0;
}
