import t from 'tap';
import { validateGraph } from '../../planner/builder.js';
import type { Graph } from '../../planner/ir.js';
import { buildDartsStack, dartsGenotype, dartsReductionCells, DARTS_OPS } from '../../models/generators/darts.js';

const shapeOf = (g: Graph, opName: string) => {
  const op = g.ops.find((o) => o.name === opName);
  if (!op) throw new Error(`no op ${opName}`);
  return g.tensors[op.outputs[0]!]!.shape;
};

t.test('DARTS genotypes: each node reads two distinct earlier states through ops of the search space', async (t) => {
  for (let seed = 0; seed < 50; seed++) {
    for (const nodes of [2, 4, 5]) {
      const gt = dartsGenotype(seed, nodes);
      for (const cell of [gt.normal, gt.reduce]) {
        t.equal(cell.length, nodes);
        cell.forEach(([[a, opA], [b, opB]], j) => {
          if (!(a < b && b < j + 2 && a >= 0)) t.fail(`seed ${seed} node ${j}: inputs ${a}, ${b}`);
          if (!DARTS_OPS.includes(opA) || !DARTS_OPS.includes(opB)) t.fail(`seed ${seed}: unknown op`);
        });
      }
    }
  }
  // Over many seeds every op and every input position shows up.
  const seen = new Set<string>();
  for (let seed = 0; seed < 50; seed++)
    for (const [[a, x], [b, y]] of dartsGenotype(seed).normal) seen.add(x).add(y).add(`in${a}`).add(`in${b}`);
  for (const op of DARTS_OPS) t.ok(seen.has(op), `op ${op} drawn`);
  for (let s = 0; s < 5; s++) t.ok(seen.has(`in${s}`), `state ${s} used as an input`);
});

t.test(
  'DARTS stacks: valid graphs; reductions at cells/3 and 2·cells/3 halve the map and double the width',
  async (t) => {
    for (const [cells, C, res] of [
      [3, 8, 32],
      [8, 16, 32],
      [14, 48, 224],
      [20, 36, 32],
    ] as const) {
      for (const seed of [1, 2]) {
        const nodesPerCell = 4;
        const g = buildDartsStack({ cells, seed, channels: C, resolution: res });
        validateGraph(g);
        const reductions = dartsReductionCells(cells);
        t.same(reductions, [Math.floor(cells / 3), Math.floor((2 * cells) / 3)]);
        let width = C;
        // CIFAR stem keeps the resolution; the ImageNet stem divides it by 8.
        let size = res > 64 ? Math.ceil(res / 8) : res;
        for (let k = 0; k < cells; k++) {
          if (reductions.includes(k)) ((width *= 2), (size = Math.ceil(size / 2)));
          t.same(
            shapeOf(g, `cell${k}/concat`),
            [1, size, size, nodesPerCell * width],
            `cells=${cells} seed=${seed}: cell ${k} output`,
          );
        }
        t.equal(g.ops.filter((o) => o.kind === 'concat').length, cells);
        t.same(g.tensors[g.outputs[0]!]!.shape, [1, 10]);
      }
    }
  },
);

t.test('DARTS cells read the previous two cells, each through its own 1x1 conv', async (t) => {
  const g = buildDartsStack({ cells: 8, seed: 4, channels: 16, resolution: 32 });
  const producerName = (tensor: number) => g.ops[g.tensors[tensor]!.producer]!.name;
  for (let k = 2; k < 8; k++) {
    const p0 = g.ops.find((o) => o.name === `cell${k}/preprocess0`)!;
    const p1 = g.ops.find((o) => o.name === `cell${k}/preprocess1`)!;
    t.equal(producerName(p0.inputs[0]!), `cell${k - 2}/concat`);
    t.equal(producerName(p1.inputs[0]!), `cell${k - 1}/concat`);
    t.ok(p0.kind === 'conv2d' && p0.kernel[0] === 1 && p1.kind === 'conv2d' && p1.kernel[0] === 1);
    // After a reduction cell, cell k-2's output is twice as large: the 1x1 conv has stride 2.
    t.equal(
      p0.kind === 'conv2d' && p0.stride[0],
      dartsReductionCells(8).includes(k - 1) ? 2 : 1,
      `cell ${k} preprocess0 stride`,
    );
  }
  // Each concat output is read by exactly the next two cells (the last one by the pooling).
  for (let k = 0; k < 6; k++) {
    const out = g.tensors[g.ops.find((o) => o.name === `cell${k}/concat`)!.outputs[0]!]!;
    t.same(out.consumers.map((c) => g.ops[c]!.name).sort(), [`cell${k + 1}/preprocess1`, `cell${k + 2}/preprocess0`]);
  }
  // Every intermediate node is a sum of two terms.
  const sums = g.ops.filter((o) => /\/node\d+\/sum$/.test(o.name));
  t.equal(sums.length, 8 * 4);
  t.ok(sums.every((o) => o.kind === 'add' && o.inputs.length === 2));
});

t.test(
  'DARTS ops have their shapes: separable (two dw+1x1), dilated (rate 2), 1x1, skip (pool at stride 2)',
  async (t) => {
    let seenDilated = 0;
    let seenPool = 0;
    for (let seed = 0; seed < 10; seed++) {
      const g = buildDartsStack({ cells: 6, seed, channels: 16, resolution: 32 });
      for (const op of g.ops) {
        if (op.kind === 'dwconv2d' && op.name.includes('dil_conv_3x3')) {
          t.same(op.dilation, [2, 2]);
          seenDilated++;
        }
        if (op.kind === 'avgpool') {
          t.match(op.name, /edge\d_skip$/);
          t.same(op.stride, [2, 2]);
          seenPool++;
        }
        if (op.name.includes('sep_conv_3x3') && op.kind === 'dwconv2d') t.same(op.kernel, [3, 3]);
      }
    }
    t.ok(seenDilated > 0 && seenPool > 0, `dilated ${seenDilated}, pooled skips ${seenPool}`);
  },
);

t.test('DARTS: deterministic for a seed, different across seeds', async (t) => {
  const a = JSON.stringify(buildDartsStack({ cells: 8, seed: 9, channels: 16, resolution: 32 }));
  t.equal(JSON.stringify(buildDartsStack({ cells: 8, seed: 9, channels: 16, resolution: 32 })), a);
  t.not(JSON.stringify(buildDartsStack({ cells: 8, seed: 10, channels: 16, resolution: 32 })), a);
});

t.test('DARTS rejects bad options with a message', async (t) => {
  t.throws(() => buildDartsStack({ cells: 2, seed: 1, channels: 16, resolution: 32 }), /cells = 2/);
  t.throws(() => buildDartsStack({ cells: 8, seed: 1, channels: 15, resolution: 32 }), /channels 15/);
  t.throws(
    () => buildDartsStack({ cells: 8, seed: 1, nodesPerCell: 0, channels: 16, resolution: 32 }),
    /nodesPerCell 0/,
  );
});
