/**
 * `lowwater plan`: plan a network's memory and report it, without running it.
 *
 * Argument handling only: the caller supplies `loadGraph` (the TFLite
 * importer); the planning and the reports are pure functions in planner/.
 */
import { parseArgs } from 'node:util';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { parseByteSize } from '../../planner/bytes.js';
import type { DType, Graph } from '../../planner/ir.js';
import { ORDER_ALGORITHMS } from '../../planner/order/index.js';
import { PLACEMENT_ALGORITHMS } from '../../planner/placement/index.js';
import { fuseResizeArgmax } from '../../planner/fuse_resize_argmax.js';
import { planGraphReport, PlanRefusedError, type PlanOptions } from '../../planner/plan_graph.js';
import { planHtml } from '../../planner/report/html.js';
import { planJson } from '../../planner/report/json.js';
import { planTable } from '../../planner/report/table.js';
import { UsageError } from '../errors.js';

export interface PlanCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  loadGraph: (file: string) => Promise<Graph>;
  writeFile: (path: string, data: string) => Promise<void>;
}

export const PLAN_HELP = `lowwater plan — decide, before running anything, in which order a network runs,
into how many channel chunks each inverted residual block is split, and where
every tensor lives in one memory arena; then report how much memory that takes.

Usage
  lowwater plan --arch mobilenet_v2 [--alpha A] [--res R] [options]
  lowwater plan --model FILE.tflite [options]

Network (one of)
  --arch mobilenet_v2   build MobileNetV2 (paper Table 2) from scratch
    --alpha A           width multiplier, e.g. 0.35 0.5 0.75 1.0 1.3 1.4 (default 1.0)
    --res R             input resolution, 32..1024 (default 224)
  --model FILE          plan a model file (TFLite)
  --dtype f32|int8      activation type: 4 or 1 byte per value (default f32; for
                        --model, the file's own types unless given)

Planning
  --chunks auto|none|N  auto (default): smallest peak first, then in each block
                        the fewest chunks that keep that peak.
                        none: op by op, no fusion (the "per-layer" policy).
                        N: t = min(N, expanded channels) chunks in every block
                        (MobileNetV2 paper Section 5.1 splits each block's
                        inner tensor into t pieces of ceil(C/t) channels).
  --budget BYTES        fastest plan whose arena fits BYTES (2MiB, 100KiB,
                        1.5MB, 2097152). Refused, with the smallest reachable
                        peak, when nothing fits.
  --stream              run the network row by row through line buffers (rings)
                        from its input as far as it can (to the global average
                        pool of a classifier; through a segmentation head of 1x1
                        convs and concatenations, in two passes when it pools
                        the feature map, as DeepLab's ASPP): the fastest
                        streamed plan under --budget, or without one the
                        smallest. Without --stream,
                        a budget that no whole-tensor plan meets is streamed
                        automatically. The input image is then read from the
                        caller's buffer row by row and is not in the arena.
  --order NAME          order search: ${Object.keys(ORDER_ALGORITHMS).join(', ')} (default exact)
  --placement NAME      arena placement: ${Object.keys(PLACEMENT_ALGORITHMS).join(', ')} (default hill-climb)
  --time-limit MS       limit of planning (the order search gets 85% of it); past
                        it the exact search falls back to a heuristic and says
                        so, with its gap to the proven lower bound (default 5000)
  --stream-head on|off  on (default): a resize_bilinear whose only reader is an
                        arg-max over channels (the DeepLab head) is planned as
                        one fused op that never holds the full-resolution class
                        scores, as 'lowwater segment' runs it; off: as the file has it

Output
  (default)             a table per step (op, live bytes, arena use) and a summary
  --summary             the summary only
  --json FILE|-         the report as JSON to FILE, or to stdout with '-'
  --html FILE           a self-contained HTML report with charts

Reading the summary
  naive       every tensor in its own buffer for the whole run
  per-layer   op by op in the file's order, each tensor freed after its last use
  plan peak   the largest sum of bytes live at one step of the chosen plan;
              no placement can use a smaller arena
  arena       what the executor allocates (= plan peak when nothing fragments)

Examples
  lowwater plan --arch mobilenet_v2 --alpha 1.0 --res 224 --chunks 6
  lowwater plan --arch mobilenet_v2 --budget 2MiB --json plan.json --html plan.html
  lowwater plan --model mobilenet_v2_1.0_224_quant.tflite --summary
`;

function parseNumber(flag: string, text: string, check: (n: number) => boolean, want: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`${flag}: '${text}' is not ${want}`);
  return n;
}

/** A copy of the graph whose activation tensors are `dtype` (what-if planning of a model at another width). */
function retypeActivations(graph: Graph, dtype: DType): Graph {
  return {
    ...graph,
    tensors: graph.tensors.map((t) => (t.constant || t.dtype === 'i32' || t.dtype === 'i64' ? t : { ...t, dtype })),
  };
}

export async function planCommand(argv: string[], io: PlanCommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        arch: { type: 'string' },
        alpha: { type: 'string' },
        res: { type: 'string' },
        model: { type: 'string' },
        dtype: { type: 'string' },
        chunks: { type: 'string' },
        budget: { type: 'string' },
        order: { type: 'string' },
        placement: { type: 'string' },
        'time-limit': { type: 'string' },
        'stream-head': { type: 'string', default: 'on' },
        stream: { type: 'boolean' },
        json: { type: 'string' },
        html: { type: 'string' },
        summary: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`lowwater plan: ${(e as Error).message}\nRun 'lowwater plan --help' for usage.\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(PLAN_HELP);
    return 0;
  }

  let graph: Graph;
  const options: PlanOptions = {};
  try {
    if ((values.arch === undefined) === (values.model === undefined))
      throw new UsageError('give exactly one of --arch mobilenet_v2 or --model FILE');
    if (values.model !== undefined && (values.alpha !== undefined || values.res !== undefined))
      throw new UsageError('--alpha and --res go with --arch, not --model');
    const dtypeFlag = values.dtype;
    if (dtypeFlag !== undefined && dtypeFlag !== 'f32' && dtypeFlag !== 'int8')
      throw new UsageError(`--dtype: '${dtypeFlag}' is not f32 or int8`);
    const dtype: DType | undefined = dtypeFlag === undefined ? undefined : dtypeFlag === 'int8' ? 'i8' : 'f32';
    if (values.stream) options.stream = 'on';
    const chunks = values.chunks ?? 'auto';
    if (chunks === 'auto' || chunks === 'none') options.chunks = chunks;
    else
      options.chunks = parseNumber(
        '--chunks',
        chunks,
        (n) => Number.isInteger(n) && n >= 1,
        "'auto', 'none' or a whole number ≥ 1",
      );
    if (values.budget !== undefined) {
      try {
        options.budgetBytes = parseByteSize(values.budget);
      } catch (e) {
        throw new UsageError(`--budget: ${(e as Error).message}`);
      }
      if (options.budgetBytes <= 0) throw new UsageError('--budget must be more than 0 bytes');
    }
    if (values.order !== undefined) {
      if (!ORDER_ALGORITHMS[values.order])
        throw new UsageError(`--order: '${values.order}' is not one of ${Object.keys(ORDER_ALGORITHMS).join(', ')}`);
      options.order = values.order;
    }
    if (values.placement !== undefined) {
      if (!PLACEMENT_ALGORITHMS[values.placement])
        throw new UsageError(
          `--placement: '${values.placement}' is not one of ${Object.keys(PLACEMENT_ALGORITHMS).join(', ')}`,
        );
      options.placement = values.placement;
    }
    if (values['time-limit'] !== undefined)
      options.timeLimitMs = parseNumber(
        '--time-limit',
        values['time-limit'],
        (n) => n > 0,
        'a number of milliseconds > 0',
      );

    if (values.arch !== undefined) {
      if (values.arch !== 'mobilenet_v2')
        throw new UsageError(`--arch: '${values.arch}' is not a known architecture (known: mobilenet_v2)`);
      const alpha =
        values.alpha === undefined
          ? 1.0
          : parseNumber('--alpha', values.alpha, (n) => n > 0 && n <= 2, 'a width multiplier in (0, 2]');
      const res =
        values.res === undefined
          ? 224
          : parseNumber(
              '--res',
              values.res,
              (n) => Number.isInteger(n) && n >= 32 && n <= 1024,
              'a whole number of pixels in 32..1024',
            );
      graph = buildMobileNetV2({ alpha, resolution: res, dtype: dtype ?? 'f32' });
    } else {
      const file = values.model!;
      try {
        graph = await io.loadGraph(file);
      } catch (e) {
        io.stderr(`lowwater plan: cannot load model '${file}': ${(e as Error).message}\n`);
        return 1;
      }
      if (values['stream-head'] !== 'on' && values['stream-head'] !== 'off')
        throw new UsageError(`--stream-head: '${values['stream-head']}' is not on or off`);
      if (values['stream-head'] === 'on') {
        const { graph: fusedGraph, fused } = fuseResizeArgmax(graph);
        if (fused.length) {
          io.stderr(
            `lowwater plan: planning ${fused.length} resize → arg-max pair(s) as one fused op, as 'lowwater segment' runs them (--stream-head off: as the file has them)\n`,
          );
          graph = fusedGraph;
        }
      }
      if (dtype !== undefined) {
        const current = graph.tensors.find((t) => !t.constant)?.dtype;
        if (current !== dtype) {
          io.stderr(
            `lowwater plan: planning '${file}' as if its activations were ${dtypeFlag} (the file's are ${current})\n`,
          );
          graph = retypeActivations(graph, dtype);
        }
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`lowwater plan: ${e.message}\nRun 'lowwater plan --help' for usage.\n`);
      return 2;
    }
    io.stderr(`lowwater plan: ${(e as Error).message}\n`);
    return 2;
  }

  let report;
  try {
    report = planGraphReport(graph, options);
  } catch (e) {
    if (e instanceof PlanRefusedError) {
      io.stderr(`lowwater plan: refused: ${e.message}\n`);
      return 1;
    }
    io.stderr(`lowwater plan: cannot plan '${graph.name}': ${(e as Error).message}\n`);
    return 1;
  }

  const jsonText = `${JSON.stringify(planJson(report), null, 2)}\n`;
  try {
    if (values.json === '-') {
      io.stdout(jsonText);
    } else {
      io.stdout(planTable(report, { steps: !values.summary }));
      if (values.json !== undefined) {
        await io.writeFile(values.json, jsonText);
        io.stdout(`wrote ${values.json}\n`);
      }
    }
    if (values.html !== undefined) {
      await io.writeFile(values.html, planHtml(report));
      if (values.json !== '-') io.stdout(`wrote ${values.html}\n`);
    }
  } catch (e) {
    io.stderr(`lowwater plan: cannot write the report: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
