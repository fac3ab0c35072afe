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
      const kind = s.kind === 'op' ? r.graph.ops[s.op]!.kind : s.kind;
      const chunks =
        s.kind === 'block' ? `${s.chunks}×${s.chunkChannels}` : s.kind === 'stream' ? `${s.stages.length} stages` : '';
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
  if (r.stream) {
    const st = r.stream;
    row(
      'streamed unit (rings + states + work)',
      st.totalBytes,
      `step ${st.step}: ${st.stages.length} stages, rings ${groupDigits(st.ringBytes)} B, expanded rings, sums and head vectors ${groupDigits(st.stateBytes)} B, work ${groupDigits(st.workBytes)} B`,
    );
    if (st.passes === 2)
      lines.push(
        `  two passes: the first only sums the rows the row head pools (its global mean needs every row), the second makes the head's rows; the stages before the head run in both`,
      );
    if (st.externalInput)
      lines.push(
        `  ${pad('input image (outside the arena)', 44)}${pad(formatBytes(st.inputTensorBytes), 26)}the caller's image, read row by row`,
      );
    const recomputing = st.stages.flatMap((s, i) => (s.expanded === 'recompute' ? [String(i)] : []));
    lines.push(
      `  blocks recomputing their expanded rows: ${recomputing.length ? `stages ${recomputing.join(', ')}` : 'none (every block keeps a ring of expanded rows)'}`,
    );
    if (options.steps ?? true) {
      lines.push(
        `  ${pad('#', 3, true)}  ${pad('stage', 40)}  ${pad('expanded', 9)}  ${pad('band', 4, true)}  ${pad('groups', 9)}  ${pad('tile', 4, true)}  ${pad('ring rows', 9, true)}  ${pad('ring B', 8, true)}  ${pad('state B', 8, true)}  ${pad('work B', 8, true)}`,
      );
      for (const [i, s] of st.stages.entries()) {
        const name = s.stage.length > 40 ? `${s.stage.slice(0, 37)}...` : s.stage;
        lines.push(
          `  ${pad(String(i), 3, true)}  ${pad(name, 40)}  ${pad(s.expanded ?? s.kind, 9)}  ${pad(String(s.bandRows), 4, true)}  ${pad(`${s.chunks}×${s.groupChannels}`, 9)}  ${pad(String(s.tileCols), 4, true)}  ${pad(s.inputRingRows === null ? 'whole' : String(s.inputRingRows), 9, true)}  ${pad(groupDigits(s.inputRingBytes), 8, true)}  ${pad(groupDigits(s.stateBytes), 8, true)}  ${pad(groupDigits(s.workBytes), 8, true)}`,
        );
      }
    }
  }
  lines.push(`  ${pad('estimated block time (fitted cost model)', 44)}${r.estimatedBlocksMs.toFixed(2)} ms`);
  lines.push(`  ${pad('planning time', 44)}${r.planningMs.toFixed(1)} ms`);
  if (r.order.note) lines.push(`  note: ${r.order.note}`);
  return `${lines.join('\n')}\n`;
}
