/**
 * Reports: the JSON fields, the terminal table, and the HTML
 * file (well formed, self-contained, one series per policy, one rectangle per
 * buffer).
 */
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { planGraphReport, verifyPlan } from '../../planner/plan_graph.js';
import { planHtml, SERIES } from '../../planner/report/html.js';
import { planJson } from '../../planner/report/json.js';
import { planTable } from '../../planner/report/table.js';
import { parseHtml } from './html_parse.js';
import { randomDag } from './random_dag.js';

const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });

t.test('JSON has every report field, consistent with the plan', async (t) => {
  const r = planGraphReport(g, { chunks: 6 });
  verifyPlan(g, r.plan);
  const j = JSON.parse(JSON.stringify(planJson(r)));
  t.equal(j.policies.naiveBytes, r.policies.naiveBytes);
  t.equal(j.policies.perLayerBytes, 6_021_120);
  t.equal(j.plan.peakBytes, 2_107_392);
  t.equal(j.plan.lowerBoundBytes, 2_107_392);
  t.equal(j.plan.arenaBytes, 2_107_392);
  t.equal(j.plan.chunks.length, 17);
  t.match(j.plan.chunks[1], {
    block: 'expanded_conv_1',
    chunks: 6,
    chunkChannels: 16,
    expandedChannels: 96,
    ops: { expand: 'expanded_conv_1/expand', add: null },
  });
  t.equal(j.plan.order.length, r.plan.steps.length);
  t.equal(j.plan.order[0], 'Conv+expanded_conv');
  t.equal(j.plan.orderAlgorithm, 'exact-dp');
  t.equal(j.plan.orderExact, true);
  t.equal(j.plan.placementAlgorithm, 'hill-climb');
  t.type(j.planningMs, 'number');
  t.equal(j.plan.buffers.length, r.plan.buffers.length);
  t.equal(j.plan.steps.length, r.plan.steps.length);
  t.equal(Math.max(...j.plan.steps.map((s: { liveBytes: number }) => s.liveBytes)), j.plan.peakBytes);
  t.same(j.plan.steps[1].ops, ['expanded_conv_1/expand', 'expanded_conv_1/depthwise', 'expanded_conv_1/project']);
});

type Checks = Pick<typeof t, 'ok' | 'notOk' | 'same' | 'equal' | 'fail'>;

function checkHtml(t: Checks, html: string, buffers: number) {
  const els = parseHtml(html);
  t.notOk(/<script/i.test(html), 'no scripts');
  t.notOk(/\s(src|href)="(?!#)/i.test(html), 'no external resources');
  const series = els.filter((e) => e.tag === 'polyline' && e.attrs.class === 'series');
  t.same(series.map((e) => e.attrs['data-series']).sort(), [...SERIES].sort(), 'one series per policy');
  for (const s of series) t.ok(s.attrs.points!.split(' ').length >= 2, `${s.attrs['data-series']} has points`);
  const rects = els.filter((e) => e.tag === 'rect' && (e.attrs.class ?? '').split(' ').includes('buffer'));
  t.equal(rects.length, buffers, 'one rectangle per buffer');
  t.same(
    rects.map((e) => Number(e.attrs['data-buffer'])).sort((a, b) => a - b),
    Array.from({ length: buffers }, (_, i) => i),
    'each buffer once',
  );
  for (const r of rects)
    if (!(Number(r.attrs.width) > 0 && Number(r.attrs.height) > 0)) t.fail(`rect ${r.attrs['data-buffer']} is empty`);
  t.equal(els.filter((e) => e.tag === 'svg').length, 2, 'two charts');
}

t.test('HTML: standalone, one series per policy and one rectangle per buffer', async (t) => {
  for (const chunks of [6, 'none', 'auto'] as const) {
    const r = planGraphReport(g, { chunks });
    const html = planHtml(r);
    t.test(`chunks ${chunks}`, async (t) => checkHtml(t, html, r.plan.buffers.length));
  }
  const dag = randomDag(42, { maxUnits: 10, blockRate: 0.4 });
  const r = planGraphReport(dag);
  t.test('random DAG with blocks and aliases', async (t) => checkHtml(t, planHtml(r), r.plan.buffers.length));
});

t.test('HTML escapes names', async (t) => {
  const dag = randomDag(43, { maxUnits: 4 });
  const evil = { ...dag, name: '<b>&"x"' };
  const html = planHtml(planGraphReport(evil));
  t.ok(html.includes('&lt;b&gt;&amp;&quot;x&quot;'));
  parseHtml(html);
});

t.test('terminal table: one row per step, the peak marked, the policies summarized', async (t) => {
  const r = planGraphReport(g, { chunks: 6 });
  const text = planTable(r);
  const rows = text.split('\n').filter((l) => /^\s+\d+\s{2}/.test(l));
  t.equal(rows.length, r.plan.steps.length);
  t.match(rows[1], /expanded_conv_1\s+block\s+6×16\s+2,107,392\s+2,107,392 ◀ peak/);
  t.match(text, /naive \(every tensor its own buffer\)\s+28,193,216 B/);
  t.match(text, /per-layer \(op by op, graph order\)\s+6,021,120 B/);
  t.match(text, /plan peak = arena lower bound\s+2,107,392 B .* order exact-dp \(proven minimum\)/);
  t.match(text, /arena\s+2,107,392 B .* placement hill-climb \(= lower bound\)/);
  const summary = planTable(r, { steps: false });
  t.notOk(/◀ peak/.test(summary), 'summary only');
});
