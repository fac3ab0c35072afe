/**
 * `lowwater profile MODEL [IMAGE] [--runs N] [--json] [--html FILE] [--tflite]`
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { profileModel } from '../index.js';
import { parseChunks } from '../run_setup.js';
import { profileHtml } from '../profile/html.js';
import { profileTable } from '../profile/table.js';
import { parseBudget, RUN_OPTION_SPECS, runOptionsHelp } from './run_command.js';
import { UsageError, type CliIO } from './io.js';

export const PROFILE_HELP = `Usage: lowwater profile MODEL [IMAGE] [options]

Where the time of a run goes: runs MODEL many times, timing every step of its
plan, and prints one row per step with its time, its work and its share of
the steps' time. MODEL is a registry name (nsfw_mobilenet_v2 is the float model that
ships with lowwater; 'lowwater models' lists the others), a .tflite file or a
TensorFlow.js model.json. Without IMAGE the input is mid-grey (every byte 128):
the kernels' times do not depend on the pixel values.

Reading the table
  step        the plan step. lowwater runs a plan, not the file's operator list:
              an inverted residual block (1x1 expansion, 3x3 depthwise, 1x1
              projection, residual add) is fused into one kernel call that
              works chunk by chunk (Section 5.1) and never stores the expanded
              tensor, so it is timed, and shown, as one row ("block ...").
  TFLite ops  the file's operator indices the row computes (as TFLite numbers
              them), so rows can be compared with TFLite's own profile.
  ms, share   median time of the step over the timed runs, and its part of
              the steps' sum. The heading gives the whole run's median wall
              time and CPU time (far apart on a busy machine: the process
              waited for a CPU, which the steps' medians mostly leave out) and
              how much of each run its steps account for (near 100% when every
              step is timed).
  MMAC        millions of multiply-accumulates of the row's convolutions and
              fully-connected layers, from the graph.
  GMAC/s      MMAC / ms / 1000: billions of multiply-accumulates per second.
              Compare rows with it: a row far below the others waits on
              memory or overhead rather than arithmetic (a 1x1 conv on one pixel
              reads every weight for few MACs). Integer blocks that recompute
              halo rows between tiles do more MACs than the graph has; the
              heading gives both counts, GMAC/s uses the graph's.
  read KiB    activations read from the arena (each input once) plus weights.
  write KiB   what the step leaves in the arena (a block's inner tensors never
              get there).
  chunks      the block's Section 5.1 channel chunk count.

TFLite's profile (--tflite)
  Runs the same .tflite file in the TFLite-WASM peer (tfjs-tflite: XNNPACK,
  WASM SIMD, one thread; install it in a lowwater checkout with
  'npm ci --prefix bench/tflite') with TFLite's profiler, on the same input
  bytes, and puts its time next to each row. TFLite runs most operators inside
  XNNPACK, whose partitions its profiler shows as one "TfLiteXNNPackDelegate"
  node each; XNNPACK's own profile splits them into its operators, which
  lowwater maps back to the file's operators by their order and kind. A row's
  TFLite time is the sum of its operators' times; where TFLite's entries cover
  operators of several rows (a partition that could not be split, or XNNPACK
  operators of two partitions reported under one name), the rows share one
  "group" line. TFLite's profiler keeps means, not medians, so
  lw/TFLite compares means.

Options:
  --runs N            timed runs (default: as many as take about 2 s, 10 to 100);
                      each is followed by an untimed run, shown for comparison
  --warmup N          untimed runs first (default 5)
  --json              print the profile as JSON instead of the table
  --html FILE         also write a self-contained HTML report with a bar per row
  --tflite            add TFLite-WASM's profile of the same file (needs a .tflite
                      MODEL and the peer installed)
${runOptionsHelp('2MiB')}

Examples:
  lowwater profile mobilenet_v2_1.0_224_quant.tflite
  lowwater profile nsfw_mobilenet_v2 photo.jpg --runs 50
  lowwater profile mobilenet_v2_1.0_224_quant.tflite --tflite --html profile.html
`;

function count(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number ≥ ${min}, got '${text}'`);
  return n;
}

export async function profileCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      chunks: RUN_OPTION_SPECS.chunks,
      budget: RUN_OPTION_SPECS.budget,
      float: RUN_OPTION_SPECS.float,
      json: RUN_OPTION_SPECS.json,
      offline: RUN_OPTION_SPECS.offline,
      help: RUN_OPTION_SPECS.help,
      runs: { type: 'string' },
      warmup: { type: 'string' },
      html: { type: 'string' },
      tflite: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.stdout(PROFILE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('profile needs a MODEL (a registry name, .tflite or model.json)');
  if (positionals.length > 2)
    throw new UsageError(`profile takes MODEL and at most one IMAGE, got ${positionals.length} arguments`);
  const [model, image] = positionals as [string, string | undefined];
  const runs = count(values.runs, '--runs', 1);
  const warmup = count(values.warmup, '--warmup', values.tflite ? 1 : 0);
  const budget = parseBudget(values.budget);
  const profile = await profileModel(model, image, {
    chunks: parseChunks(values.chunks),
    float: values.float,
    offline: values.offline,
    log: (s) => io.stderr(`lowwater: ${s}`),
    tflite: values.tflite,
    ...(budget !== undefined ? { budget } : {}),
    ...(runs !== undefined ? { runs } : {}),
    ...(warmup !== undefined ? { warmup } : {}),
  });
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    node: process.version,
    date: new Date().toISOString(),
  };
  if (values.html) await writeFile(values.html, profileHtml(profile, machine));
  if (values.json) io.stdout(JSON.stringify({ ...profile, machine }, null, 2));
  else
    io.stdout(
      `${profileTable(profile)}machine: ${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}, ${machine.date}` +
        (values.html ? `\nHTML report: ${values.html}` : ''),
    );
  return 0;
}
