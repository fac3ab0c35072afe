/**
 * Reading any tensor of a .tflite model from TFLite itself: a copy of the model whose
 * SubGraph.outputs lists that tensor. The copy is the original file with a new int32
 * vector appended and the `outputs` field's offset (a forward u32, FlatBuffers format)
 * moved to it; nothing else changes. Copies go to a temp folder and are never kept
 * (fixture-derived files stay out of the repository).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTfliteRunner } from '../../bench/tflite/runner.mjs';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Absolute position of field i of the table at `table`, or 0 when absent. */
function field(b: Uint8Array, table: number, i: number): number {
  const d = view(b);
  const vt = table - d.getInt32(table, true);
  if (4 + 2 * i >= d.getUint16(vt, true)) return 0;
  const o = d.getUint16(vt + 4 + 2 * i, true);
  return o ? table + o : 0;
}
const deref = (b: Uint8Array, at: number) => at + view(b).getUint32(at, true);

// schema.fbs: Model.subgraphs = field 2; SubGraph.tensors = 0, outputs = 2; Tensor.name = 3.
function firstSubgraph(b: Uint8Array): number {
  const v = deref(b, field(b, deref(b, 0), 2));
  return deref(b, v + 4);
}

/** Tensor names of the first subgraph, index = tensor index in the file. */
export function tfliteTensorNames(b: Uint8Array): string[] {
  const v = deref(b, field(b, firstSubgraph(b), 0));
  const n = view(b).getUint32(v, true);
  return Array.from({ length: n }, (_, i) => {
    const s = deref(b, field(b, deref(b, v + 4 + 4 * i), 3));
    return Buffer.from(b.subarray(s + 4, s + 4 + view(b).getUint32(s, true))).toString('utf8');
  });
}

/** A copy of the model whose subgraph outputs are the tensors `ids` (file indices). */
export function withSubgraphOutputs(b: Uint8Array, ids: readonly number[]): Uint8Array {
  const at = Math.ceil(b.length / 4) * 4;
  const out = new Uint8Array(at + 4 + 4 * ids.length);
  out.set(b);
  const d = view(out);
  d.setUint32(at, ids.length, true);
  ids.forEach((id, i) => d.setInt32(at + 4 + 4 * i, id, true));
  const f = field(out, firstSubgraph(out), 2);
  d.setUint32(f, at - f, true);
  return out;
}

/** Raw bytes of tensor `name` when TFLite (the bench/tflite peer) runs `modelPath` on `input`. */
export async function tfliteTensor(modelPath: string, name: string, input: Uint8Array): Promise<Uint8Array> {
  const b = new Uint8Array(readFileSync(modelPath));
  const id = tfliteTensorNames(b).indexOf(name);
  if (id < 0) throw new Error(`${modelPath} has no tensor '${name}'`);
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-tflite-'));
  try {
    const p = join(dir, 'model.tflite');
    writeFileSync(p, withSubgraphOutputs(b, [id]));
    const r = await createTfliteRunner(p, { threads: 1 });
    try {
      return r.run(input);
    } finally {
      r.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
