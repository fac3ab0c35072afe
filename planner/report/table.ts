/**
 * The terminal report of a plan: one row per step (what runs, chunks, live
 * bytes, highest arena byte in use) and a summary comparing the policies.
 */
import { formatBytes, groupDigits } from '../bytes.js';
import type { PlanReport } from '../plan_graph.js';

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function planTable(r: PlanReport, options: { steps?: boolean } = {}): string {
  const p = r.plan;
  const lines: string[] = [];
  if (options.steps ?? true) {
    const names = r.stepNames.map((n) => (n.length > 40 ? `${n.slice(0, 37)}...` : n));
    const w = Math.max(12, ...names.map((n) => n.length));
    lines.push(
      `${pad('step', 5, true)}  ${pad('op / block', w)}  ${pad('kind', 15)}  ${pad('chunks', 9)}  ${pad('live bytes', 13, true)}  ${pad('arena use', 13, true)}`,
    );
    p.steps.forEach((s, i) => {
      const kind = s.kind === 'block' ? 'block' : r.graph.ops[s.op]!.kind;
      const chunks = s.kind === 'block' ? `${s.chunks}×${s.chunkChannels}` : '';
      const peak = r.stepBytes[i] === p.peakBytes ? ' ◀ peak' : '';
      lines.push(
        `${pad(String(i), 5, true)}  ${pad(names[i]!, w)}  ${pad(kind, 15)}  ${pad(chunks, 9)}  ${pad(groupDigits(r.stepBytes[i]!), 13, true)}  ${pad(groupDigits(r.stepArenaBytes[i]!), 13, true)}${peak}`,
      );
    });
    lines.push('');
  }
  const blocks = r.chunks.length;
  lines.push(
    `${r.graph.name}: ${p.steps.length} steps, ${blocks} fused block${blocks === 1 ? '' : 's'}, chunks ${r.options.chunks}${r.options.budgetBytes !== null ? `, budget ${formatBytes(r.options.budgetBytes)}` : ''}`,
  );
  const row = (label: string, bytes: number | null, note = '') => {
    if (bytes !== null) lines.push(`  ${pad(label, 44)}${pad(formatBytes(bytes), 26)}${note}`.trimEnd());
  };
  row('naive (every tensor its own buffer)', r.policies.naiveBytes);
  row('per-layer (op by op, graph order)', r.policies.perLayerBytes);
  if (r.policies.minimumPeakBytes !== null && r.policies.minimumPeakBytes !== p.peakBytes)
    row('smallest reachable peak (1 channel/chunk)', r.policies.minimumPeakBytes);
  const orderNote = r.order.exact
    ? 'proven minimum'
    : `lower bound ${formatBytes(r.order.lowerBoundBytes)}, gap ${((p.peakBytes / r.order.lowerBoundBytes - 1) * 100).toFixed(1)}%`;
  row('plan peak = arena lower bound', p.peakBytes, `order ${p.orderAlgorithm} (${orderNote})`);
  if (r.givenOrderPeakBytes !== p.peakBytes) row('  same chunks in the graph order', r.givenOrderPeakBytes);
  row(
    'arena',
    p.arenaBytes,
    `placement ${p.placementAlgorithm}${p.arenaBytes === p.peakBytes ? ' (= lower bound)' : ` (+${groupDigits(p.arenaBytes - p.peakBytes)} B fragmentation)`}`,
  );
  lines.push(`  ${pad('estimated block time (fitted cost model)', 44)}${r.estimatedBlocksMs.toFixed(2)} ms`);
  lines.push(`  ${pad('planning time', 44)}${r.planningMs.toFixed(1)} ms`);
  if (r.order.note) lines.push(`  note: ${r.order.note}`);
  return `${lines.join('\n')}\n`;
}
