import t from 'tap';
import { samePadding1D, convOutSize } from '../../planner/shapes.js';
import { GraphBuilder, validateGraph } from '../../planner/builder.js';

// Brute-force TF SAME: output = ceil(in/stride) and the padded input must cover every window.
t.test('SAME padding matches TF for every small case', async (t) => {
  for (let n = 1; n <= 40; n++) {
    for (const k of [1, 3, 5]) {
      for (const s of [1, 2]) {
        for (const d of [1, 2]) {
          const [a, b] = samePadding1D(n, k, s, d);
          const out = convOutSize(n, k, s, d, a, b);
          t.equal(out, Math.ceil(n / s), `n=${n} k=${k} s=${s} d=${d} output size`);
          t.ok(b - a === 0 || b - a === 1, `n=${n} k=${k} s=${s}: extra pixel goes after`);
        }
      }
    }
  }
  // The case the TFLite references rely on: 224 input, 3x3 stride 2 pads 0 before and 1 after.
  t.same(samePadding1D(224, 3, 2), [0, 1]);
});

t.test('GraphBuilder infers shapes and rejects mismatches with the op name', async (t) => {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', [1, 8, 8, 3]);
  const w = g.constant('w', [4, 3, 3, 3]);
  const b = g.constant('b', [4]);
  const y = g.op({
    kind: 'conv2d',
    name: 'stem',
    inputs: [x],
    kernel: [3, 3],
    stride: [2, 2],
    dilation: [1, 1],
    pad: { top: 0, bottom: 1, left: 0, right: 1 },
    act: 'relu6',
    weights: w,
    bias: b,
  });
  t.same(g.tensor(y).shape, [1, 4, 4, 4]);
  const bad = g.constant('w2', [4, 3, 3, 5]);
  t.throws(
    () =>
      g.op({
        kind: 'conv2d',
        name: 'broken',
        inputs: [y],
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        pad: { top: 1, bottom: 1, left: 1, right: 1 },
        act: 'none',
        weights: bad,
        bias: -1,
      }),
    /op 'broken' \(conv2d\).*\[4,3,3,5\]/,
  );
  g.output(y);
  const graph = g.finish();
  validateGraph(graph);
  graph.tensors[y]!.shape = [1, 5, 5, 4];
  t.throws(() => validateGraph(graph), /stem.*\[1,5,5,4\]/);
});
