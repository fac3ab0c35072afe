/**
 * `lowwater plan` through planCommand with an in-memory io: help, outputs,
 * budget refusal, model loading, and clear errors with exit code 2.
 */
import t from 'tap';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { fuseResizeArgmax } from '../../planner/fuse_resize_argmax.js';
import { planGraphReport } from '../../planner/plan_graph.js';
import type { Graph } from '../../planner/ir.js';
import { planCommand, type PlanCommandIo } from '../../src/cli/plan.js';
import { parseHtml } from './html_parse.js';

interface Run {
  code: number;
  out: string;
  err: string;
  files: Map<string, string>;
  loaded: string[];
}

async function run(
  argv: string[],
  opts: { graph?: Graph; loadError?: string; writeError?: string } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const files = new Map<string, string>();
  const loaded: string[] = [];
  const io: PlanCommandIo = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    loadGraph: async (file) => {
      loaded.push(file);
      if (opts.loadError) throw new Error(opts.loadError);
      return opts.graph ?? buildMobileNetV2({ alpha: 0.35, resolution: 96 });
    },
    writeFile: async (path, data) => {
      if (opts.writeError) throw new Error(opts.writeError);
      files.set(path, data);
    },
  };
  const code = await planCommand(argv, io);
  return { code, out, err, files, loaded };
}

t.test('--help teaches every option', async (t) => {
  const r = await run(['--help']);
  t.equal(r.code, 0);
  for (const flag of [
    '--arch',
    '--alpha',
    '--res',
    '--model',
    '--dtype',
    '--chunks',
    '--budget',
    '--json',
    '--html',
    '--order',
    '--placement',
    '--time-limit',
    '--summary',
  ])
    t.ok(r.out.includes(flag), flag);
  t.match(r.out, /2MiB, 100KiB/);
  t.match(r.out, /Examples/);
  t.equal((await run(['-h'])).code, 0);
});

t.test('--arch mobilenet_v2 --chunks 6 --json -: JSON only on stdout', async (t) => {
  const r = await run(['--arch', 'mobilenet_v2', '--alpha', '1.0', '--res', '224', '--chunks', '6', '--json', '-']);
  t.equal(r.code, 0, r.err);
  t.equal(r.err, '');
  const j = JSON.parse(r.out);
  t.equal(j.plan.peakBytes, 2_107_392);
  t.equal(j.policies.perLayerBytes, 6_021_120);
  t.equal(j.options.chunks, 6);
});

t.test('table on stdout, JSON and HTML to files', async (t) => {
  const r = await run(['--arch', 'mobilenet_v2', '--budget', '2MiB', '--json', 'p.json', '--html', 'p.html']);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /plan peak = arena lower bound/);
  t.match(r.out, /wrote p\.json/);
  t.match(r.out, /wrote p\.html/);
  const j = JSON.parse(r.files.get('p.json')!);
  t.ok(j.plan.arenaBytes <= 2 * 1024 * 1024);
  t.equal(j.options.budgetBytes, 2_097_152);
  parseHtml(r.files.get('p.html')!);
  const s = await run(['--arch', 'mobilenet_v2', '--summary']);
  t.notMatch(s.out, /◀ peak/);
  t.match(s.out, /1,505,280 B/);
});

t.test('--budget 100KiB is refused with the minimum (exit 1)', async (t) => {
  // Float32 MobileNetV2 1.0/224: even streamed row by row its rings take more than 100 KiB.
  const r = await run(['--arch', 'mobilenet_v2', '--budget', '100KiB']);
  t.equal(r.code, 1);
  t.match(r.err, /refused: budget 102,400 B .*streamed row by row.*: [\d,]+ B/);
  t.equal(r.out, '');
});

t.test('--dtype int8 sizes activations at one byte', async (t) => {
  const r = await run(['--arch', 'mobilenet_v2', '--chunks', '6', '--dtype', 'int8', '--json', '-']);
  t.equal(r.code, 0, r.err);
  t.equal(JSON.parse(r.out).plan.peakBytes, 526_848);
});

t.test('--model goes through loadGraph; --dtype re-sizes a float model', async (t) => {
  const r = await run(['--model', 'm.tflite', '--chunks', '6', '--json', '-']);
  t.equal(r.code, 0, r.err);
  t.same(r.loaded, ['m.tflite']);
  t.equal(JSON.parse(r.out).plan.peakBytes, 59_904 * 4);
  const q = await run(['--model', 'm.tflite', '--chunks', '6', '--dtype', 'int8', '--json', '-']);
  t.equal(q.code, 0, q.err);
  t.equal(JSON.parse(q.out).plan.peakBytes, 59_904);
  t.match(q.err, /as if its activations were int8 \(the file's are f32\)/);
  const bad = await run(['--model', 'missing.tflite'], { loadError: 'ENOENT: no such file' });
  t.equal(bad.code, 1);
  t.match(bad.err, /cannot load model 'missing\.tflite': ENOENT/);
});

t.test('usage errors say what is wrong and exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /exactly one of --arch mobilenet_v2 or --model FILE/],
    [['--arch', 'mobilenet_v2', '--model', 'x'], /exactly one of/],
    [['--arch', 'resnet50'], /'resnet50' is not a known architecture/],
    [['--arch', 'mobilenet_v2', '--alpha', 'wide'], /--alpha: 'wide' is not a width multiplier/],
    [['--arch', 'mobilenet_v2', '--res', '300.5'], /--res: '300.5'/],
    [['--arch', 'mobilenet_v2', '--chunks', '0'], /--chunks: '0'/],
    [['--arch', 'mobilenet_v2', '--budget', '12XB'], /--budget: '12XB': unknown unit 'XB'/],
    [['--arch', 'mobilenet_v2', '--dtype', 'fp16'], /--dtype: 'fp16' is not f32 or int8/],
    [['--arch', 'mobilenet_v2', '--order', 'magic'], /--order: 'magic' is not one of exact, greedy, beam, given/],
    [['--arch', 'mobilenet_v2', '--placement', 'magic'], /--placement: 'magic'/],
    [['--arch', 'mobilenet_v2', '--time-limit', '-5'], /--time-limit/],
    [['--arch', 'mobilenet_v2', '--bogus'], /Unknown option '--bogus'/],
    [['--arch', 'mobilenet_v2', 'extra'], /positional/i],
    [['--model', 'm', '--alpha', '1'], /--alpha and --res go with --arch/],
    [['--arch'], /argument missing/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.err, re, argv.join(' '));
    t.match(r.err, /lowwater plan --help|lowwater plan:/);
  }
});

t.test('a failing write is reported (exit 1)', async (t) => {
  const r = await run(['--arch', 'mobilenet_v2', '--html', '/nope/p.html'], { writeError: 'EACCES' });
  t.equal(r.code, 1);
  t.match(r.err, /cannot write the report: EACCES/);
});

t.test('--order given / --placement greedy-by-size are passed through', async (t) => {
  const r = await run(['--arch', 'mobilenet_v2', '--order', 'given', '--placement', 'greedy-by-size', '--json', '-']);
  t.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  t.equal(j.plan.orderAlgorithm, 'given');
  t.equal(j.plan.placementAlgorithm, 'greedy-by-size');
});

t.test(
  '--model with a DeepLab head: resize → arg-max planned fused by default, as segment runs it; --stream-head off plans the file as is',
  async (t) => {
    const graph = buildDeepLabV3({ alpha: 0.5, resolution: 129 });
    const fused = planGraphReport(fuseResizeArgmax(graph).graph, {}).plan.peakBytes;
    const asIs = planGraphReport(graph, {}).plan.peakBytes;
    t.ok(fused < asIs, `the fused head lowers the peak (${fused} < ${asIs})`);
    const on = await run(['--model', 'deeplab.tflite', '--json', '-'], { graph });
    t.equal(on.code, 0, on.err);
    t.match(on.err, /1 resize → arg-max pair\(s\) as one fused op/);
    t.equal(JSON.parse(on.out).plan.peakBytes, fused);
    const off = await run(['--model', 'deeplab.tflite', '--stream-head', 'off', '--json', '-'], { graph });
    t.equal(off.code, 0, off.err);
    t.equal(off.err, '');
    t.equal(JSON.parse(off.out).plan.peakBytes, asIs);
    const bad = await run(['--model', 'deeplab.tflite', '--stream-head', 'maybe'], { graph });
    t.equal(bad.code, 2);
    t.match(bad.err, /--stream-head: 'maybe' is not on or off/);
  },
);
