/**
 * The terminal report of a profile: a heading with the whole run, one line per
 * plan step, and, when TFLite ran the same file, its times in the same lines
 * (or on a line under rows that only a group of TFLite entries covers).
 */
import { runsText } from './profile.js';
import type { Profile, ProfileRow, TfliteProfile } from './types.js';

/** [3,4,5,7] → "3-5,7" */
export function operatorRanges(ops: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ops.length;) {
    let j = i;
    while (j + 1 < ops.length && ops[j + 1] === ops[j]! + 1) j++;
    out.push(j === i ? `${ops[i]}` : `${ops[i]}-${ops[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

const ms = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const mmac = (x: number) => (x === 0 ? '-' : (x / 1e6).toFixed(1));
const kib = (x: number) => (x / 1024).toFixed(1);

interface Column {
  head: string;
  left?: boolean;
  cell: (r: ProfileRow) => string;
}

function columns(p: Profile): Column[] {
  const cols: Column[] = [
    { head: 'step', cell: (r) => String(r.step) },
    { head: 'what', left: true, cell: (r) => r.what },
  ];
  if (p.rows.some((r) => r.operators.length))
    cols.push({ head: 'TFLite ops', left: true, cell: (r) => operatorRanges(r.operators) });
  cols.push(
    { head: 'out', left: true, cell: (r) => r.out },
    { head: 'ms', cell: (r) => ms(r.ms) },
    { head: 'share', cell: (r) => pct(r.share) },
    { head: 'MMAC', cell: (r) => mmac(r.macs) },
    { head: 'GMAC/s', cell: (r) => (r.gmacPerS === null ? '-' : r.gmacPerS.toFixed(1)) },
    { head: 'read KiB', cell: (r) => kib(r.bytesRead) },
    { head: 'write KiB', cell: (r) => kib(r.bytesWritten) },
    { head: 'chunks', cell: (r) => (r.chunks === null ? '' : String(r.chunks)) },
  );
  if (p.tflite)
    cols.push(
      {
        head: '| TFLite ms',
        cell: (r) => (r.tflite?.ms == null ? (r.tflite ? `group ${r.tflite.group}` : '') : ms(r.tflite.ms)),
      },
      { head: 'share', cell: (r) => (r.tflite?.share == null ? '' : pct(r.tflite.share)) },
      {
        head: 'lw/TFLite (means)',
        cell: (r) => (r.tflite?.ms ? `${(r.meanMs / r.tflite.ms).toFixed(2)}x` : ''),
      },
    );
  return cols;
}

/** A line under the last row of each match that covers several rows. */
function groupLines(t: TfliteProfile): Map<number, string[]> {
  const out = new Map<number, string[]>();
  t.groups.forEach((g, i) => {
    if (g.steps.length <= 1) return;
    const kinds = new Set(g.entries.map((e) => t.entries[e]!.kind));
    const why = kinds.has('partition')
      ? 'TFLite reports these operators as one XNNPACK partition'
      : 'XNNPACK reports some of these operators under one name';
    const last = g.steps[g.steps.length - 1]!;
    const line =
      `      └ group ${i}: steps ${operatorRanges(g.steps)} (TFLite ops ${operatorRanges(g.operators)}; ${why}): ` +
      `lowwater ${ms(g.lowwaterMs)} ms, TFLite ${ms(g.tfliteMs)} ms (${pct(g.tfliteMs / t.entriesMs)}), lw/TFLite ${(g.lowwaterMs / g.tfliteMs).toFixed(2)}x`;
    out.set(last, [...(out.get(last) ?? []), line]);
  });
  return out;
}

export function profileTable(p: Profile): string {
  const lines: string[] = [];
  lines.push(`lowwater profile: ${p.model}`);
  lines.push(`path ${p.pathDescription}; input ${p.input.description}`);
  lines.push(
    `${runsText(p.runs, 'run')} after ${runsText(p.warmup, 'warm-up run')}. A run: ${ms(p.totalMs)} ms median wall time` +
      `${p.cpuMs !== null ? `, ${ms(p.cpuMs)} ms of CPU time` : ''} (${ms(p.unprofiledMs)} ms without per-step timing)`,
  );
  lines.push(
    `The steps account for ${pct(p.coverage)} of each run (median); their medians add up to ${ms(p.stepsMs)} ms, the 100% of "share"`,
  );
  const recompute = p.executedMacs > p.macs ? `, ${(p.executedMacs / 1e6).toFixed(1)} M computed` : '';
  lines.push(
    `${(p.macs / 1e6).toFixed(1)} M multiply-adds${recompute}: ${p.gmacPerS.toFixed(1)} GMAC/s over the steps`,
  );
  if (p.tflite) {
    const t = p.tflite;
    lines.push(
      `${t.runtime}: a run ${ms(t.totalMs)} ms median wall time, mean ${ms(t.meanMs)} (${ms(t.unprofiledMs)} ms without its profiler); ` +
        `its entries add up to ${ms(t.entriesMs)} ms, the 100% of its "share"; they are means (all its profiler keeps)`,
    );
  }
  lines.push('');
  const cols = columns(p);
  const cells = p.rows.map((r) => cols.map((c) => c.cell(r)));
  const widths = cols.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (cols[i]!.left ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(fmt(cols.map((c) => c.head)));
  const groups = p.tflite ? groupLines(p.tflite) : new Map<number, string[]>();
  p.rows.forEach((r, i) => {
    lines.push(fmt(cells[i]!));
    for (const g of groups.get(r.step) ?? []) lines.push(g);
  });
  if (p.tflite) {
    const t = p.tflite;
    for (const e of t.entries)
      if (e.steps.length === 0)
        lines.push(`TFLite ${e.kind === 'overhead' ? e.label : `${e.label} (no lowwater row)`}: ${ms(e.ms)} ms`);
  }
  const notes = [...p.notes, ...(p.tflite?.notes.map((n) => `TFLite: ${n}`) ?? [])];
  if (notes.length) {
    lines.push('');
    for (const n of notes) lines.push(`note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
