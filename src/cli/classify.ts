/**
 * `lowwater classify IMAGE|DIR... [--model NAME|FILE] [--labels FILE] [--top K] [--float] [--json|--jsonl] [--raw]
 *  [--jobs N] [--unordered] [--threads N]`
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL, FALLBACK_MODEL } from '../load_model.js';
import { anyFolder, IMAGE_EXTENSIONS } from './batch_inputs.js';
import { classifyBatch } from './classify_batch.js';
import { UsageError, type CliIO } from './io.js';
import { loadAndPrepare, RUN_OPTION_SPECS, runJson, runOptionsHelp, runSummary } from './run_command.js';

export const CLASSIFY_HELP = `Usage: lowwater classify IMAGE|DIR... [options]

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
  --model NAME|FILE   a registry name, a .tflite file or a TensorFlow.js model.json
                      (default: ${DEFAULT_MODEL}, the Keras MobileNetV2 of the npm
                      package nsfwjs, 5 classes, which ships with lowwater; if that
                      copy is missing: ${FALLBACK_MODEL})
                      Registry models are looked up in $LOWWATER_MODELS, then in the
                      cache (~/.cache/lowwater), then downloaded with a sha256 check.
                      Run 'lowwater models' to list them.
  --labels FILE       one label per line, line i = output index i
  --top K             how many classes to show (default 5)
  --json              print one JSON object (results, memory) instead of text
  --raw               with --json or --jsonl: include each image's whole output tensor
                      (on the integer path its raw quantized bytes, e.g. uint8 0..255)
${runOptionsHelp('2MiB')}

One image on several threads:
  --threads N         split each image's inference across N threads (default 1):
                      each fused block's output rows, and each 1x1 convolution's
                      pixels (a fully connected layer's channels), are shared
                      between this thread and N − 1 worker threads on one shared
                      WebAssembly memory. Same outputs, byte for byte; each extra
                      thread adds one block's chunk scratch to the arena (shown
                      under memory). For one image's latency; for many images
                      --jobs uses the cores better. Whole-tensor plans only: not
                      with --stream, nor with a --budget that only a row-streamed
                      plan meets (refused, with the smallest whole-tensor peak);
                      not with --jobs.

Many images (a batch: any of --jobs, --jsonl, --unordered, or a DIR argument):
  DIR                 the image files under DIR, recursively, sorted by path:
                      names ending in ${IMAGE_EXTENSIONS.join(' ')}
                      (any case); names starting with '.' and links to folders are
                      passed over. Files named on the command line are taken
                      whatever their name.
  --jobs N            classify on N worker threads (default 1), about one core each.
                      Each loads its own copy of the model (the kernel code is
                      compiled once and shared), so memory grows with N: the
                      README's "Many images" gives the measured figures.
  --jsonl             one JSON object per line and per image, as it finishes: the
                      fields of one --json result (image, inputSha256, top, latencyMs,
                      output with --raw), or { image, error } for a file that failed
  --unordered         print each image as it finishes (default: in input order)
  A file that fails (missing, not an image) is reported on its own line (text:
  'FILE  error: ...') and the batch goes on; the exit code is then 1. Ctrl-C (or
  SIGTERM) starts no new image, prints the images being classified, and exits with
  130 (143): every line printed is whole. When stderr is a terminal, a progress
  line there shows images done, images/s and the time left.

Examples:
  lowwater classify photo.jpg
  lowwater classify cat.png dog.jpg --model mobilenet_v2_1.0_224 --top 3
  lowwater classify cat.png --model ./my_model.tflite --labels labels.txt --json
  lowwater classify photos/ --jobs 2 --jsonl > results.jsonl
`;

export async function classifyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...RUN_OPTION_SPECS,
      top: { type: 'string', default: '5' },
      raw: { type: 'boolean', default: false },
      jobs: { type: 'string' },
      threads: { type: 'string' },
      jsonl: { type: 'boolean', default: false },
      unordered: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.stdout(CLASSIFY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('classify needs at least one image');
  const k = Number(values.top);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top must be a positive integer, got '${values.top}'`);
  if (values.raw && !values.json && !values.jsonl) throw new UsageError('--raw only applies with --json or --jsonl');
  const threads = values.threads === undefined ? 1 : Number(values.threads);
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64))
    throw new UsageError(`--threads must be a whole number from 1 to 64, got '${values.threads}'`);
  if (threads > 1 && values.stream)
    throw new UsageError(
      `--threads ${threads} with --stream: threads split whole-tensor plans only; a row-streamed plan runs on one thread (drop --threads, or --stream)`,
    );
  const batch = values.jobs !== undefined || values.jsonl || values.unordered || (await anyFolder(positionals));
  if (batch && threads > 1)
    throw new UsageError(
      `--threads ${threads} with a batch (--jobs, --jsonl, --unordered or a folder): a batch already keeps the cores busy with one image per job; use --jobs N`,
    );
  if (batch) return classifyBatch(values, positionals, k, io);

  const prepared = await loadAndPrepare(values, io, { task: 'classify', threads });
  const { model } = prepared;
  const results = [];
  for (const image of positionals) {
    const c = await model.classify(image, { top: k });
    results.push({
      image,
      inputSha256: c.inputSha256,
      top: c.top,
      latencyMs: c.latencyMs,
      ...(values.raw ? { output: Array.from(c.output) } : {}),
    });
    if (!values.json) {
      io.stdout(`${image}  (${c.latencyMs.toFixed(1)} ms)`);
      for (const t of c.top) io.stdout(`  ${t.score.toFixed(4)}  ${t.index.toString().padStart(4)}  ${t.label}`);
    }
  }
  if (values.json) {
    const { outputQuantization, outputGrid } = model.info;
    const extra = {
      ...(model.info.path === 'integer' && outputQuantization ? { outputQuantization } : {}),
      ...(outputGrid ? { outputGrid: `scores rounded to the model's ${outputGrid}` } : {}),
    };
    io.stdout(JSON.stringify(runJson(prepared, results, extra), null, 2));
  } else io.stdout(runSummary(prepared));
  return 0;
}
