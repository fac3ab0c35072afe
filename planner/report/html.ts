/**
 * The HTML report of a plan: one self-contained file (inline CSS and SVG, no
 * scripts, no external resources) with
 * - live bytes over the run for the naive, per-layer and planned policies
 *   (x = IR ops executed, so a fused block spans its ops; y logarithmic, since
 *   the naive policy is often ten times the others), one <polyline
 *   class="series" data-series="..."> per policy;
 * - the arena layout: one <rect class="buffer" data-buffer="i"> per plan
 *   buffer, x = steps it lives, y = its offset and size;
 * - the per-block chunk choices and a summary.
 */
import { formatBytes, groupDigits, humanBytes } from '../bytes.js';
import type { PlanReport } from '../plan_graph.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number): string => (Math.round(x * 100) / 100).toString();

export const SERIES = ['naive', 'per-layer', 'plan'] as const;
const COLORS: Record<(typeof SERIES)[number], string> = { naive: '#9e9e9e', 'per-layer': '#d9534f', plan: '#2a7ae2' };

/** Step function points: value v[i] held over [x[i], x[i+1]). */
function stepPoints(xs: number[], vs: number[], sx: (x: number) => number, sy: (y: number) => number): string {
  const pts: string[] = [];
  vs.forEach((v, i) => {
    pts.push(`${num(sx(xs[i]!))},${num(sy(v))}`, `${num(sx(xs[i + 1]!))},${num(sy(v))}`);
  });
  return pts.join(' ');
}

function liveChart(r: PlanReport): string {
  const W = 900;
  const H = 320;
  const m = { l: 80, r: 20, t: 20, b: 40 };
  const nOps = r.graph.ops.length;
  const perLayerX = r.perLayerStepBytes.map((_, i) => i).concat([r.perLayerStepBytes.length]);
  const planX = [0];
  for (const ops of r.stepOps) planX.push(planX[planX.length - 1]! + ops.length);
  const series: Record<(typeof SERIES)[number], { xs: number[]; vs: number[]; peak: number }> = {
    naive: { xs: [0, nOps], vs: [r.policies.naiveBytes], peak: r.policies.naiveBytes },
    'per-layer': { xs: perLayerX, vs: r.perLayerStepBytes, peak: r.policies.perLayerBytes },
    plan: { xs: planX, vs: r.stepBytes, peak: r.plan.peakBytes },
  };
  const all = [...r.perLayerStepBytes, ...r.stepBytes, r.policies.naiveBytes].filter((v) => v > 0);
  // Logarithmic y axis with ticks at powers of two, at most ~8 of them.
  const lo2 = Math.floor(Math.log2(Math.min(...all)));
  const hi2 = Math.max(lo2 + 1, Math.ceil(Math.log2(Math.max(...all) * 1.05)));
  const tickStep = Math.max(1, Math.ceil((hi2 - lo2) / 8));
  const sx = (x: number) => m.l + (x / Math.max(1, nOps)) * (W - m.l - m.r);
  const sy = (y: number) => m.t + (1 - (Math.log2(Math.max(y, 2 ** lo2)) - lo2) / (hi2 - lo2)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="live" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="live bytes over the run">`,
  );
  for (let k = lo2; k <= hi2; k += tickStep) {
    const v = 2 ** k;
    parts.push(`<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${num(sy(v))}" y2="${num(sy(v))}"/>`);
    parts.push(
      `<text class="tick" x="${m.l - 6}" y="${num(sy(v) + 4)}" text-anchor="end">${esc(humanBytes(v))}</text>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const x = Math.round((nOps * k) / 4);
    parts.push(`<text class="tick" x="${num(sx(x))}" y="${H - m.b + 16}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<text class="axis" x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle">IR ops executed</text>`);
  for (const name of SERIES) {
    const s = series[name];
    parts.push(
      `<polyline class="series" data-series="${name}" data-peak="${s.peak}" fill="none" stroke="${COLORS[name]}" stroke-width="2" points="${stepPoints(s.xs, s.vs, sx, sy)}"><title>${esc(name)}: peak ${esc(formatBytes(s.peak))}</title></polyline>`,
    );
  }
  SERIES.forEach((name, i) => {
    const y = m.t + 14 + i * 16;
    parts.push(
      `<rect class="swatch" x="${W - m.r - 250}" y="${y - 9}" width="12" height="10" fill="${COLORS[name]}"/>`,
    );
    parts.push(
      `<text class="legend" x="${W - m.r - 232}" y="${y}">${esc(name)}: ${esc(formatBytes(series[name].peak))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function arenaChart(r: PlanReport): string {
  const p = r.plan;
  const S = p.steps.length;
  const W = 900;
  const H = 420;
  const m = { l: 80, r: 20, t: 20, b: 40 };
  const arena = Math.max(1, p.arenaBytes);
  const sx = (s: number) => m.l + (s / Math.max(1, S)) * (W - m.l - m.r);
  const sy = (b: number) => H - m.b - (b / arena) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="arena" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="arena layout">`,
  );
  for (let k = 0; k <= 4; k++) {
    const b = (arena * k) / 4;
    parts.push(`<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${num(sy(b))}" y2="${num(sy(b))}"/>`);
    parts.push(
      `<text class="tick" x="${m.l - 6}" y="${num(sy(b) + 4)}" text-anchor="end">${esc(humanBytes(Math.round(b)))}</text>`,
    );
  }
  parts.push(
    `<line class="bound" x1="${m.l}" x2="${W - m.r}" y1="${num(sy(p.peakBytes))}" y2="${num(sy(p.peakBytes))}"><title>lower bound ${esc(formatBytes(p.peakBytes))}</title></line>`,
  );
  p.buffers.forEach((b, i) => {
    const kind = b.ring ? 'ring' : b.tensor < 0 ? 'scratch' : b.aliasOf !== undefined ? 'alias' : 'tensor';
    const y0 = sy(b.offset + b.bytes);
    const h = Math.max(0.5, sy(b.offset) - y0);
    const ring = b.ring
      ? ` (ring of ${b.ring.rows} rows of ${groupDigits(b.ring.rowBytes)} B${b.ring.mirrorRows ? ` + ${b.ring.mirrorRows} mirror rows` : ''}, reused cyclically)`
      : '';
    const tip = `${b.name}: ${formatBytes(b.bytes)} at offset ${groupDigits(b.offset)}, steps ${b.firstStep}–${b.lastStep}${b.aliasOf !== undefined ? ` (shares the memory of tensor ${b.aliasOf})` : ''}${ring}`;
    parts.push(
      `<rect class="buffer ${kind}" data-buffer="${i}" data-tensor="${b.tensor}" x="${num(sx(b.firstStep))}" y="${num(y0)}" width="${num(sx(b.lastStep + 1) - sx(b.firstStep))}" height="${num(h)}"><title>${esc(tip)}</title></rect>`,
    );
  });
  for (let k = 0; k <= Math.min(S, 10); k++) {
    const st = Math.round((S * k) / Math.min(S, 10));
    parts.push(`<text class="tick" x="${num(sx(st))}" y="${H - m.b + 16}" text-anchor="middle">${st}</text>`);
  }
  parts.push(`<text class="axis" x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle">plan step</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
td:first-child, th:first-child { text-align: left; }
table.stream td:nth-child(2), table.stream th:nth-child(2) { text-align: left; }
.chart .grid { stroke: #eee; } .chart .tick, .chart .axis, .chart .legend { font-size: 11px; fill: #555; }
.chart .bound { stroke: #000; stroke-dasharray: 4 3; }
.buffer.tensor { fill: #2a7ae2; fill-opacity: 0.55; stroke: #fff; stroke-width: 0.5; }
.buffer.scratch { fill: #f0ad4e; fill-opacity: 0.8; stroke: #fff; stroke-width: 0.5; }
.buffer.alias { fill: none; stroke: #000; stroke-dasharray: 2 2; stroke-width: 0.7; }
.buffer.ring { fill: #3c9d5d; fill-opacity: 0.75; stroke: #fff; stroke-width: 0.5; }
.rings .slot { fill: #3c9d5d; fill-opacity: 0.7; stroke: #fff; stroke-width: 1; }
.rings .mirror { fill: #3c9d5d; fill-opacity: 0.3; stroke: #fff; stroke-width: 1; }
.rings .state { fill: #8e5cc2; fill-opacity: 0.7; }
.rings .work { fill: #f0ad4e; fill-opacity: 0.8; }
.rings .label { font-size: 11px; fill: #333; }
`;

/**
 * The streamed unit's line buffers: one row per stage, its input ring drawn slot by slot
 * (each slot one row of the tensor, reused cyclically), then the stage's expanded ring or
 * pool sums, and its working bytes; widths in proportion to bytes.
 */
function ringChart(r: PlanReport): string {
  const st = r.stream!;
  const W = 900;
  const rowH = 18;
  const m = { l: 330, r: 20, t: 10 };
  const most = Math.max(1, ...st.stages.map((s) => s.inputRingBytes + s.stateBytes + s.workBytes));
  const sx = (b: number) => (b / most) * (W - m.l - m.r - 150);
  const H = m.t + st.stages.length * rowH + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart rings" id="rings" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="line buffers of the streamed unit">`,
  ];
  st.stages.forEach((s, i) => {
    const y = m.t + i * rowH;
    const name = short(s.stage, 36);
    const mode = s.expanded ? (s.expanded === 'ring' ? 'ring' : 'recompute') : s.kind;
    parts.push(`<text class="label" x="4" y="${y + 12}">${i} ${esc(name)} · ${esc(mode)}</text>`);
    let x = m.l;
    const rows = s.inputRingRows ?? 0;
    if (rows > 0) {
      const b = buffersOfRing(r, i);
      const slotBytes = b ? b.rowBytes : s.inputRingBytes / rows;
      const mirror = b ? b.mirrorRows : 0;
      for (let k = 0; k < rows + mirror; k++) {
        const w = sx(slotBytes);
        parts.push(
          `<rect class="${k < rows ? 'slot' : 'mirror'}" x="${num(x)}" y="${y + 2}" width="${num(Math.max(1, w))}" height="${rowH - 5}"><title>${esc(
            k < rows
              ? `slot ${k} of ${rows}: holds input row r when r mod ${rows} = ${k} (${groupDigits(slotBytes)} B)`
              : `mirror of slot ${k - rows}: the stem's taps read past the last slot`,
          )}</title></rect>`,
        );
        x += w;
      }
    }
    if (s.stateBytes) {
      const w = sx(s.stateBytes);
      parts.push(
        `<rect class="state" x="${num(x + 4)}" y="${y + 2}" width="${num(Math.max(1, w))}" height="${rowH - 5}"><title>${esc(
          `${s.kind === 'conv_pool' ? 'pool sums' : 'expanded rows kept across calls'}: ${groupDigits(s.stateBytes)} B`,
        )}</title></rect>`,
      );
      x += w + 4;
    }
    const w = sx(s.workBytes);
    parts.push(
      `<rect class="work" x="${num(x + 4)}" y="${y + 2}" width="${num(Math.max(1, w))}" height="${rowH - 5}"><title>${esc(
        `working bytes while it runs (shared): ${groupDigits(s.workBytes)} B`,
      )}</title></rect>`,
    );
    parts.push(
      `<text class="label" x="${num(x + w + 10)}" y="${y + 12}">${esc(
        `${rows ? `${rows} rows, ` : 'whole input, '}${groupDigits(s.inputRingBytes + s.stateBytes)} B`,
      )}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The ring buffer feeding stage `i` of the streamed step. */
function buffersOfRing(r: PlanReport, i: number) {
  const step = r.plan.steps[r.stream!.step];
  if (!step || step.kind !== 'stream') return undefined;
  return r.plan.buffers[step.stages[i]!.inputBuffer]?.ring;
}

/** A long (TFLite) op name cut to n characters. */
const short = (name: string, n: number) => (name.length > n ? `${name.slice(0, n - 3)}...` : name);

function streamSection(r: PlanReport): string {
  const st = r.stream!;
  const rows = st.stages
    .map(
      (s, i) =>
        `<tr><td>${i}</td><td title="${esc(s.stage)}">${esc(short(s.stage, 48))}</td><td>${esc(s.expanded ?? s.kind)}</td><td>${s.bandRows}</td><td>${s.chunks}×${s.groupChannels}</td><td>${s.tileCols}</td><td>${s.inputRingRows ?? 'whole'}</td><td>${groupDigits(s.inputRingBytes)}</td><td>${groupDigits(s.stateBytes)}</td><td>${groupDigits(s.workBytes)}</td><td>${s.estimatedMs.toFixed(3)}</td></tr>`,
    )
    .join('\n');
  const recompute = st.recomputingBlocks.length
    ? `${st.recomputingBlocks.length} of ${st.stages.filter((s) => s.expanded).length} blocks recompute their expanded rows from their input ring for every call; the others keep them in a ring.`
    : 'Every block keeps its expanded rows in a ring (nothing is recomputed).';
  const passes =
    st.passes === 2
      ? ' The stream runs twice: the first pass only sums the rows the row head pools (its global mean needs them all), the second makes the head’s rows; every stage before the head runs in both.'
      : '';
  return `<h2>Streamed unit (step ${st.step}): line buffers</h2>
<p>${st.stages.length} stages run row by row in the pull schedule, ${groupDigits(st.totalBytes)} B while they run: rings ${groupDigits(st.ringBytes)} B, expanded rings, sums and head vectors ${groupDigits(st.stateBytes)} B, shared work ${groupDigits(st.workBytes)} B. ${esc(recompute)}${esc(passes)}${
    st.externalInput
      ? ` The input image (${groupDigits(st.inputTensorBytes)} B at the model's size) is not in the arena: its rows are read from the caller's buffer as the first ring needs them.`
      : ''
  }</p>
${ringChart(r)}
<table class="stream">
<tr><th>#</th><th>stage</th><th>expanded</th><th>band</th><th>groups</th><th>tile</th><th>ring rows</th><th>ring (B)</th><th>state (B)</th><th>work (B)</th><th>est. ms</th></tr>
${rows}
</table>
`;
}

export function planHtml(r: PlanReport): string {
  const p = r.plan;
  const rows: [string, string][] = [
    ['naive (every tensor its own buffer)', formatBytes(r.policies.naiveBytes)],
    ['per-layer (op by op, graph order)', formatBytes(r.policies.perLayerBytes)],
    ['plan peak (arena lower bound)', formatBytes(p.peakBytes)],
    ['arena', formatBytes(p.arenaBytes)],
    [
      'order',
      `${p.orderAlgorithm}${r.order.exact ? ' (proven minimum)' : ` (lower bound ${formatBytes(r.order.lowerBoundBytes)})`}`,
    ],
    ['placement', p.placementAlgorithm],
    ['planning time', `${r.planningMs.toFixed(1)} ms`],
  ];
  const blocks = r.chunks
    .map(
      (c) =>
        `<tr><td title="${esc(c.block)}">${esc(short(c.block, 48))}</td><td>${c.step}</td><td>${c.expandedChannels}</td><td>${c.chunks}</td><td>${c.chunkChannels}</td><td>${groupDigits(c.footprintBytes)}</td><td>${c.estimatedMs.toFixed(3)}</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lowwater plan: ${esc(r.graph.name)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>lowwater plan: ${esc(r.graph.name)}</h1>
<table class="summary">
${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')}
</table>
<h2>Live bytes over the run</h2>
${liveChart(r)}
<h2>Arena layout (offset × step; dashed: tensors sharing another's memory; orange: chunk scratch; green: rings)</h2>
${arenaChart(r)}
${r.stream ? streamSection(r) : ''}<h2>Blocks</h2>
<table class="blocks">
<tr><th>block</th><th>step</th><th>C_exp</th><th>chunks</th><th>channels/chunk</th><th>footprint (B)</th><th>est. ms</th></tr>
${blocks}
</table>
</body>
</html>
`;
}
