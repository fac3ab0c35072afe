/**
 * `lowwater classify IMAGE... [--model NAME|FILE] [--labels FILE] [--top K] [--float] [--json] [--raw]`
 */
import { parseArgs } from 'node:util';
import { loadModelInput } from '../preprocess/image.js';
import { DEFAULT_MODEL, FALLBACK_MODEL } from '../load_model.js';
import { quantizeLike, type RunSetup } from '../run_setup.js';
import { UsageError, type CliIO } from './io.js';
import { loadAndPrepare, RUN_OPTION_SPECS, runJson, runOptionsHelp, runSummary } from './run_command.js';

export const CLASSIFY_HELP = `Usage: lowwater classify IMAGE... [options]

Classifies images with a MobileNetV2, computed by lowwater's own WASM-SIMD
kernels inside one memory arena that the planner sized before loading weights.

Each image is decoded (JPEG, PNG, WebP, ...), resized as a whole (no crop) to
the model's input size with TensorFlow's half-pixel bilinear rule, normalized as
the model expects, and run.

Quantized (uint8/int8) .tflite models run on the integer path by default: the
pixel bytes go in as they are, every layer computes in integers with TFLite's
arithmetic, and activations take one byte each. --float runs the dequantized
float32 model instead.

Options:
  --model NAME|FILE   a registry name or a .tflite file (default: ${DEFAULT_MODEL},
                      the Keras MobileNetV2 inside the npm package nsfwjs; when
                      nsfwjs is not installed: ${FALLBACK_MODEL})
                      Registry models are looked up in $LOWWATER_MODELS, then in the
                      cache (~/.cache/lowwater), then downloaded with a sha256 check.
                      Run 'lowwater models' to list them.
  --labels FILE       one label per line, line i = output index i
  --top K             how many classes to show (default 5)
  --json              print one JSON object (results, memory) instead of text
  --raw               with --json: include each image's whole output tensor (on
                      the integer path its raw quantized bytes, e.g. uint8 0..255)
${runOptionsHelp('2MiB')}

Examples:
  lowwater classify photo.jpg
  lowwater classify cat.png dog.jpg --model mobilenet_v2_1.0_224 --top 3
  lowwater classify cat.png --model ./my_model.tflite --labels labels.txt --json
`;

export interface TopEntry {
  index: number;
  label: string;
  score: number;
}

/** The k largest scores, descending; ties go to the lower index (as the references do). */
export function topK(scores: ArrayLike<number>, k: number, labels?: string[]): TopEntry[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k).map((i) => ({ index: i, label: labels?.[i] ?? `class ${i}`, score: scores[i]! }));
}

/** Type and grid of the integer path's raw output bytes. */
function outputQuantization(setup: RunSetup): { dtype: string; scale: number; zeroPoint: number } {
  const g = setup.model.graph;
  const t = g.tensors[g.outputs[0]!]!;
  return { dtype: t.dtype, scale: t.quant?.scale[0] ?? 1, zeroPoint: t.quant?.zeroPoint[0] ?? 0 };
}

export async function classifyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...RUN_OPTION_SPECS, top: { type: 'string', default: '5' }, raw: { type: 'boolean', default: false } },
  });
  if (values.help) {
    io.stdout(CLASSIFY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('classify needs at least one image');
  const k = Number(values.top);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top must be a positive integer, got '${values.top}'`);
  if (values.raw && !values.json) throw new UsageError('--raw only applies with --json');

  const prepared = await loadAndPrepare(values, io, { task: 'classify' });
  const { resolved, setup } = prepared;
  const inp = setup.model.input;
  const results = [];
  for (const image of positionals) {
    const input = await loadModelInput(image, inp.width, inp.height);
    const run = setup.executor.runPixels(input.bytes);
    const { latencyMs } = run;
    // Integer path: scores are the output's real values scale·(q − zero point); --raw gives q.
    let scores: Float32Array;
    if (run.output instanceof Float32Array)
      scores = setup.outputGrid ? quantizeLike(run.output, setup.outputGrid.quant, setup.outputGrid.dtype) : run.output;
    else {
      const q = outputQuantization(setup);
      scores = Float32Array.from(run.output, (v) => q.scale * (v - q.zeroPoint));
    }
    const top = topK(scores, k, resolved.labels);
    results.push({
      image,
      inputSha256: input.sha256,
      top,
      latencyMs,
      ...(values.raw ? { output: Array.from(run.output instanceof Float32Array ? scores : run.output) } : {}),
    });
    if (!values.json) {
      io.stdout(`${image}  (${latencyMs.toFixed(1)} ms)`);
      for (const t of top) io.stdout(`  ${t.score.toFixed(4)}  ${t.index.toString().padStart(4)}  ${t.label}`);
    }
  }
  if (values.json) {
    io.stdout(
      JSON.stringify(
        runJson(prepared, results, {
          ...(setup.path === 'integer' ? { outputQuantization: outputQuantization(setup) } : {}),
          ...(setup.outputGrid
            ? {
                outputGrid: `scores rounded to the model's ${setup.outputGrid.dtype} output tensor (scale ${setup.outputGrid.quant.scale[0]}, zero point ${setup.outputGrid.quant.zeroPoint[0]})`,
              }
            : {}),
        }),
        null,
        2,
      ),
    );
  } else io.stdout(runSummary(prepared));
  return 0;
}
