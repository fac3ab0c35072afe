/**
 * Inverted residual block detection (Section 5.1 planning unit) and the
 * footprint / cost arithmetic.
 */
import t from 'tap';
import { buildMobileNetV2, MOBILENET_V2_BLOCKS } from '../../models/mobilenet_v2.js';
import { blockFootprintBytes, chunkChannelsFor, chunksFor, detectBlocks } from '../../planner/blocks.js';
import {
  blockMultiplyAdds,
  blockWorkForChunks,
  estimateBlockNs,
  type KernelCostModel,
} from '../../planner/block_cost.js';
import { chunkCandidates } from '../../planner/chunks.js';
import { GraphBuilder } from '../../planner/builder.js';
import { samePadding } from '../../planner/shapes.js';

t.test('MobileNetV2: the stem block plus one block per expanded layer, adds where Table 2 has residuals', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const blocks = detectBlocks(g);
  const layers = MOBILENET_V2_BLOCKS.reduce((s, [, , n]) => s + n, 0);
  t.equal(blocks.length, layers, '17: block 0 (t=1) is fused with the stem conv, the other 16 have 1x1 expansions');
  t.equal(blocks.filter((b) => b.stem).length, 1);
  t.match(blocks[0], {
    name: 'Conv+expanded_conv',
    stem: true,
    add: -1,
    expandedChannels: 32,
    expandedSize: [112, 112],
    depthwiseSize: [112, 112],
    expandedElementBytes: 4,
  });
  // Residual adds: stride 1 and equal channels: n − 1 per stage with n > 1 → 1 + 2 + 3 + 2 + 2 = 10.
  t.equal(blocks.filter((b) => b.add >= 0).length, 10);
  t.equal(g.ops.filter((op) => op.kind === 'add').length, 10, 'every add of the graph is inside a block');
  t.match(blocks[1], {
    name: 'expanded_conv_1',
    expandedChannels: 96,
    expandedSize: [112, 112],
    depthwiseSize: [56, 56],
    add: -1,
  });
  t.match(blocks[2], {
    name: 'expanded_conv_2',
    expandedChannels: 144,
    expandedSize: [56, 56],
    depthwiseSize: [56, 56],
  });
  t.ok(blocks[2]!.add >= 0);
  t.equal(blocks[2]!.internal.length, 3, 'E, D and the projection output are never materialized when the add is fused');
  const int8 = detectBlocks(buildMobileNetV2({ dtype: 'i8' }));
  t.equal(int8[0]!.expandedElementBytes, 1, 'dtype-aware');
});

function tinyBlock(opts: {
  expandAct?: 'relu6' | 'relu' | 'none';
  extraReader?: boolean;
  projectAct?: 'none' | 'relu6';
  outputE?: boolean;
  stemStride?: number;
}) {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', [1, 8, 8, 4]);
  const w1 = g.constant('w1', [16, 1, 1, 4]);
  const e = g.op({
    kind: 'conv2d',
    name: 'b/expand',
    inputs: [x],
    kernel: [1, 1],
    stride: [1, 1],
    dilation: [1, 1],
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
    act: opts.expandAct ?? 'relu6',
    weights: w1,
    bias: -1,
  });
  const wd = g.constant('wd', [1, 3, 3, 16]);
  const d = g.op({
    kind: 'dwconv2d',
    name: 'b/depthwise',
    inputs: [e],
    kernel: [3, 3],
    stride: [2, 2],
    dilation: [1, 1],
    pad: samePadding(8, 8, [3, 3], [2, 2]),
    act: 'relu6',
    depthMultiplier: 1,
    weights: wd,
    bias: -1,
  });
  const w2 = g.constant('w2', [4, 1, 1, 16]);
  const p = g.op({
    kind: 'conv2d',
    name: 'b/project',
    inputs: [d],
    kernel: [1, 1],
    stride: [1, 1],
    dilation: [1, 1],
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
    act: opts.projectAct ?? 'none',
    weights: w2,
    bias: -1,
  });
  g.output(p);
  if (opts.extraReader) g.output(g.op({ kind: 'reshape', name: 'peek', inputs: [d] }, { shape: [1, 4, 4, 16] }));
  if (opts.outputE) g.output(e);
  return g.finish();
}

t.test('a block needs relu6 expansion, single readers and a linear projection', async (t) => {
  const ok = detectBlocks(tinyBlock({}));
  t.equal(ok.length, 1);
  t.match(ok[0], { name: 'b', expandedChannels: 16, expandedSize: [8, 8], depthwiseSize: [4, 4], add: -1 });
  t.equal(detectBlocks(tinyBlock({ expandAct: 'relu' })).length, 0, 'expansion with relu');
  t.equal(detectBlocks(tinyBlock({ projectAct: 'relu6' })).length, 0, 'projection with an activation');
  t.equal(detectBlocks(tinyBlock({ extraReader: true })).length, 0, 'depthwise output read twice');
  t.equal(detectBlocks(tinyBlock({ outputE: true })).length, 0, 'expanded tensor is a graph output');
});

t.test('footprint, chunk channels and chunk counts', async (t) => {
  const g = tinyBlock({});
  const [b] = detectBlocks(g);
  // |x| 8·8·4, |y| 4·4·4, chunk c·(8·8 + 4·4), 4 bytes each.
  t.equal(blockFootprintBytes(g, b!, 3), 4 * (256 + 64 + 3 * 80));
  t.equal(chunkChannelsFor(b!, 6), 3);
  t.equal(chunksFor(b!, 3), 6, '16 channels in chunks of 3: 6 chunks (3,3,3,3,3,1)');
  t.equal(chunkChannelsFor(b!, 10), 2);
  t.equal(chunksFor(b!, 2), 8, 't = 10 runs as 8 chunks of 2');
  t.equal(chunkChannelsFor(b!, 100), 1, 't clamps to C_exp');
  t.equal(chunkChannelsFor(b!, 0), 16, 't clamps to 1');
  const k: KernelCostModel = {
    nsPerMultiplyAdd: 1,
    nsPerConvMultiplyAdd: 1,
    nsPerDepthwiseMultiplyAdd: 1,
    nsPerCall: 10,
    nsPerAccumulatedByte: 1,
    nsPerRequantizedValue: 1,
  };
  const cands = chunkCandidates(g, b!, { float: k, integer: k });
  const byCount = [...cands].sort((x, y) => x.chunks - y.chunks);
  t.same(
    byCount.map((c) => c.chunks),
    [1, 2, 3, 4, 6, 8, 16],
    'one candidate per achievable chunk count',
  );
  t.same(
    byCount.map((c) => c.chunkChannels),
    [16, 8, 6, 4, 3, 2, 1],
    'smallest c for each count',
  );
  t.ok(
    cands.every((c, i) => i === 0 || cands[i - 1]!.estimatedNs <= c.estimatedNs),
    'cheapest first',
  );
});

t.test("cost model: the fused kernel's schedule for the chunk size, padding and passes over y", async (t) => {
  const g = tinyBlock({});
  const [b] = detectBlocks(g);
  // expand 8·8·16·4 + depthwise 4·4·16·9 + project 4·4·4·16.
  t.equal(blockMultiplyAdds(g, b!), 4096 + 2304 + 1024);
  // t = 1 (c = 16): the whole 8x8x16 expanded image fits, one group, one band of all 4 rows:
  // one expansion GEMM (64 rows · K 4 · 16), 4 depthwise rows, one projection (16 rows · K 16 · N 4 padded to 8).
  const k = {
    nsPerMultiplyAdd: 1,
    nsPerConvMultiplyAdd: 1,
    nsPerDepthwiseMultiplyAdd: 1,
    nsPerCall: 100,
    nsPerAccumulatedByte: 1,
    nsPerRequantizedValue: 1,
  };
  // The integer constants are never used for this float32 block.
  const m = { float: k, integer: { ...k, nsPerMultiplyAdd: NaN } };
  const w1 = blockWorkForChunks(g, b!, 16);
  t.match(w1.schedule, { groupChannels: 16, groups: 1, ringRows: 8, bandRows: 4 });
  t.match(w1, {
    gemmMultiplyAdds: 64 * 4 * 16 + 16 * 16 * 8,
    depthwiseMultiplyAdds: 16 * 9 * 16,
    calls: 1 + 4 + 1,
    accumulatedBytes: 0,
  });
  t.equal(estimateBlockNs(g, b!, 1, m), 4096 + 2048 + 2304 + 600);
  // t = 16 (c = 1): 64 + 16 floats of scratch hold a 3-row ring of 2 channels (3·8·2 = 48) and one
  // depthwise row of 2 (4·2): 8 groups of 2, each padded to 8 GEMM columns and 4 depthwise lanes.
  // Per group, expanded rows 0–2, 3–4, 5, 6 (the ring wraps), 7: 24 + 16 + 8 + 8 + 8 rows;
  // 4 projections of 4 rows · K 2 · N 8; 4 depthwise rows; y (4·4·4 floats) rewritten by 7 groups.
  const w16 = blockWorkForChunks(g, b!, 1);
  t.match(w16.schedule, { groupChannels: 2, groups: 8, ringRows: 3, bandRows: 1 });
  t.match(w16, {
    gemmMultiplyAdds: 8 * (64 * 4 * 8 + 4 * 4 * 2 * 8),
    depthwiseMultiplyAdds: 8 * 16 * 9 * 4,
    calls: 8 * (5 + 4 + 4),
    accumulatedBytes: 7 * 2 * 256,
  });
  t.equal(estimateBlockNs(g, b!, 16, m), 8 * (2048 + 256) + 8 * 576 + 100 * 104 + 3584);
});

function stemGraph(before: 'none' | 'quantize' | 'reshape') {
  const g = new GraphBuilder('stem');
  let x = g.input('x', [1, 8, 8, 3]);
  if (before === 'quantize') x = g.op({ kind: 'quantize', name: 'quantize', inputs: [x] });
  if (before === 'reshape') x = g.op({ kind: 'reshape', name: 'reshape', inputs: [x] }, { shape: [1, 8, 8, 3] });
  const w0 = g.constant('w0', [8, 3, 3, 3]);
  const e = g.op({
    kind: 'conv2d',
    name: 'Conv',
    inputs: [x],
    kernel: [3, 3],
    stride: [2, 2],
    dilation: [1, 1],
    pad: samePadding(8, 8, [3, 3], [2, 2]),
    act: 'relu6',
    weights: w0,
    bias: -1,
  });
  const wd = g.constant('wd', [1, 3, 3, 8]);
  const d = g.op({
    kind: 'dwconv2d',
    name: 'b0/depthwise',
    inputs: [e],
    kernel: [3, 3],
    stride: [1, 1],
    dilation: [1, 1],
    pad: samePadding(4, 4, [3, 3], [1, 1]),
    act: 'relu6',
    depthMultiplier: 1,
    weights: wd,
    bias: -1,
  });
  const w2 = g.constant('w2', [4, 1, 1, 8]);
  g.output(
    g.op({
      kind: 'conv2d',
      name: 'b0/project',
      inputs: [d],
      kernel: [1, 1],
      stride: [1, 1],
      dilation: [1, 1],
      pad: { top: 0, bottom: 0, left: 0, right: 0 },
      act: 'none',
      weights: w2,
      bias: -1,
    }),
  );
  return g.finish();
}

t.test(
  'the stem block: the 3x3/2 conv on the network input, also through a QUANTIZE of it (TF2 int8 files), not after other ops',
  async (t) => {
    t.match(detectBlocks(stemGraph('none')), [{ stem: true, expandedSize: [4, 4] }]);
    t.match(detectBlocks(stemGraph('quantize')), [{ stem: true, expandedSize: [4, 4] }]);
    t.equal(detectBlocks(stemGraph('reshape')).length, 0, 'a 3x3/2 conv after another op is not the first layer');
  },
);
