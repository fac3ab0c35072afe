/** Every constant tensor of a loaded model with its data (read through the model's constant store). */
import type { ConstData, LoadedModel } from '../../src/model.js';

export function constantEntries(m: LoadedModel): [number, ConstData][] {
  return m.graph.tensors.filter((t) => t.constant).map((t) => [t.id, m.constants.get(t.id)!]);
}
