/**
 * The HTML report of a profile: one self-contained file (inline CSS and SVG, no
 * scripts, no external resources) with the run's summary and a table of the
 * plan steps, each with a bar of its time: lowwater's (<rect class="bar lowwater"
 * data-step="i">) and, when TFLite ran the same file, TFLite's beside it
 * (<rect class="bar tflite" data-step="i">), on one scale. Rows whose TFLite time
 * only a group of entries covers get a group line with both bars.
 */
import { operatorRanges } from './table.js';
import { runsText } from './profile.js';
import type { Profile } from './types.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number): string => (Math.round(x * 100) / 100).toString();
const ms = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const BAR_W = 320;
const COLORS = { lowwater: '#2a7ae2', tflite: '#f0ad4e' };

/** Two bars (lowwater, TFLite) on a scale where `max` ms is BAR_W pixels. */
function bars(attrs: string, lw: number, tf: number | null, max: number): string {
  const w = (x: number) => num(Math.max(0.5, (x / max) * BAR_W));
  const h = tf === null ? 10 : 7;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${BAR_W}" height="16" viewBox="0 0 ${BAR_W} 16">`,
    `<rect class="bar lowwater" ${attrs} x="0" y="1" width="${w(lw)}" height="${h}" fill="${COLORS.lowwater}"><title>lowwater ${ms(lw)} ms</title></rect>`,
  ];
  if (tf !== null)
    parts.push(
      `<rect class="bar tflite" ${attrs} x="0" y="8" width="${w(tf)}" height="7" fill="${COLORS.tflite}"><title>TFLite ${ms(tf)} ms</title></rect>`,
    );
  parts.push('</svg>');
  return parts.join('');
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
td.l, th.l { text-align: left; }
tr.group td { color: #555; font-style: italic; }
.swatch { display: inline-block; width: 12px; height: 10px; margin: 0 4px 0 12px; }
ul.notes { color: #444; }
`;

export interface MachineInfo {
  cpu: string;
  cpus: number;
  node: string;
  date: string;
}

export function profileHtml(p: Profile, machine?: MachineInfo): string {
  const t = p.tflite;
  const max = Math.max(
    1e-9,
    ...p.rows.map((r) => Math.max(r.ms, r.tflite?.ms ?? 0)),
    ...(t ? t.groups.filter((g) => g.steps.length > 1).map((g) => Math.max(g.lowwaterMs, g.tfliteMs)) : []),
  );
  const summary: [string, string][] = [
    ['model', p.model],
    ['path', p.pathDescription],
    ['input', p.input.description],
    ['runs', `${p.runs} timed (each followed by an untimed one), after ${runsText(p.warmup, 'warm-up run')}`],
    [
      'a run',
      `${ms(p.totalMs)} ms median wall time${p.cpuMs !== null ? `, ${ms(p.cpuMs)} ms of CPU time` : ''}; ${ms(p.unprofiledMs)} ms without per-step timing`,
    ],
    [
      'steps',
      `account for ${pct(p.coverage)} of each run (median); their medians add up to ${ms(p.stepsMs)} ms (the 100% of share)`,
    ],
    [
      'multiply-adds',
      `${(p.macs / 1e6).toFixed(1)} M${p.executedMacs > p.macs ? ` (${(p.executedMacs / 1e6).toFixed(1)} M computed)` : ''}: ${p.gmacPerS.toFixed(1)} GMAC/s`,
    ],
  ];
  if (t)
    summary.push(
      ['TFLite', t.runtime],
      [
        'TFLite run',
        `${ms(t.totalMs)} ms median, ${ms(t.meanMs)} ms mean; ${ms(t.unprofiledMs)} ms without its profiler; entries add up to ${ms(t.entriesMs)} ms (the 100% of its share)`,
      ],
    );
  if (machine) summary.push(['machine', `${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}, ${machine.date}`]);

  const hasOps = p.rows.some((r) => r.operators.length);
  const head = [
    '<th>step</th><th class="l">what</th>',
    hasOps ? '<th class="l">TFLite ops</th>' : '',
    '<th class="l">out</th><th>ms</th><th>share</th><th>MMAC</th><th>GMAC/s</th><th>read KiB</th><th>write KiB</th><th>chunks</th>',
    t ? '<th>TFLite ms</th><th>share</th>' : '',
    '<th class="l">time</th>',
  ].join('');
  const groupAfter = new Map<number, number[]>();
  t?.groups.forEach((g, i) => {
    if (g.steps.length > 1) groupAfter.set(g.steps.at(-1)!, [...(groupAfter.get(g.steps.at(-1)!) ?? []), i]);
  });
  const cols = 11 + (hasOps ? 1 : 0) + (t ? 2 : 0);
  const body: string[] = [];
  for (const r of p.rows) {
    const tf = r.tflite;
    body.push(
      `<tr data-step="${r.step}"><td>${r.step}</td><td class="l" title="${esc(r.name)}">${esc(r.what)}</td>` +
        (hasOps ? `<td class="l">${esc(operatorRanges(r.operators))}</td>` : '') +
        `<td class="l">${esc(r.out)}</td><td>${ms(r.ms)}</td><td>${pct(r.share)}</td>` +
        `<td>${r.macs ? (r.macs / 1e6).toFixed(1) : '-'}</td><td>${r.gmacPerS === null ? '-' : r.gmacPerS.toFixed(1)}</td>` +
        `<td>${(r.bytesRead / 1024).toFixed(1)}</td><td>${(r.bytesWritten / 1024).toFixed(1)}</td><td>${r.chunks ?? ''}</td>` +
        (t
          ? `<td>${tf ? (tf.ms === null ? `group ${tf.group}` : ms(tf.ms)) : ''}</td><td>${tf?.share == null ? '' : pct(tf.share)}</td>`
          : '') +
        `<td class="l">${bars(`data-step="${r.step}"`, r.ms, t ? (tf?.ms ?? null) : null, max)}</td></tr>`,
    );
    for (const gi of groupAfter.get(r.step) ?? []) {
      const g = t!.groups[gi]!;
      body.push(
        `<tr class="group" data-group="${gi}"><td colspan="${cols - 1}" class="l">group ${gi}: steps ${esc(operatorRanges(g.steps))}, TFLite operators ${esc(operatorRanges(g.operators))} (TFLite's entries cover these rows together): lowwater ${ms(g.lowwaterMs)} ms, TFLite ${ms(g.tfliteMs)} ms (means)</td>` +
          `<td class="l">${bars(`data-group="${gi}"`, g.lowwaterMs, g.tfliteMs, max)}</td></tr>`,
      );
    }
  }
  const notes = [...p.notes, ...(t?.notes.map((n) => `TFLite: ${n}`) ?? [])];
  const unmatched = t ? t.entries.filter((e) => e.steps.length === 0) : [];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lowwater profile: ${esc(p.model)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>lowwater profile: ${esc(p.model)}</h1>
<table class="summary">
${summary.map(([k, v]) => `<tr><td class="l">${esc(k)}</td><td class="l">${esc(v)}</td></tr>`).join('\n')}
</table>
<h2>Plan steps<span class="swatch" style="background:${COLORS.lowwater}"></span>lowwater (median)${t ? `<span class="swatch" style="background:${COLORS.tflite}"></span>TFLite-WASM (mean)` : ''}</h2>
<table class="rows">
<tr>${head}</tr>
${body.join('\n')}
</table>
${unmatched.length ? `<p>${unmatched.map((e) => `TFLite ${esc(e.label)}: ${ms(e.ms)} ms`).join('<br>')}</p>` : ''}
${notes.length ? `<h2>Notes</h2>\n<ul class="notes">\n${notes.map((n) => `<li>${esc(n)}</li>`).join('\n')}\n</ul>` : ''}
</body>
</html>
`;
}
