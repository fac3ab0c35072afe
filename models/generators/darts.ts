/**
 * DARTS-like cell stacks (Liu, Simonyan, Yang 2019, "DARTS: Differentiable
 * Architecture Search", Section 2.1 and the evaluation networks of Section 3).
 *
 * A cell k reads the outputs of cells k-2 and k-1. Each input first goes through a
 * ReLU–1x1 conv–BN to the cell's width C_k (for cell k-2's output after a reduction
 * cell this 1x1 conv has stride 2, standing in for DARTS's FactorizedReduce, which
 * has the same parameters and multiply-adds: two 1x1 stride-2 convs of C_k/2 on
 * offset grids). Then each of `nodesPerCell` intermediate nodes sums two ops
 * applied to two distinct earlier states of the cell (the two inputs or earlier
 * nodes). The cell output is the concatenation of all intermediate nodes (a
 * `concat` op, nodes·C_k channels), which the next two cells read through their
 * own 1x1 convs — so the wide concat stays alive across the whole next cell, as in
 * DARTS. Reduction cells sit at cells/3 and 2·cells/3 (floored): there the ops on
 * the two inputs have stride 2 and C doubles. As in DARTS, all normal cells share
 * one drawn genotype and all reduction cells another.
 *
 * Ops (drawn uniformly per edge):
 * - sep_conv_3x3: (3x3 depthwise, 1x1 conv) twice, ReLU between (DARTS SepConv).
 * - dil_conv_3x3: 3x3 depthwise with dilation 2, then 1x1 conv (DARTS DilConv).
 * - conv_1x1: one 1x1 conv.
 * - skip: the state itself (no op); on a stride-2 edge a 3x3/2 average pool.
 *
 * Stem: for inputs up to 64 pixels DARTS's CIFAR stem (3x3 conv, 3C, stride 1,
 * feeding both inputs of cell 0); above, its ImageNet stem (3x3/2 to C/2, 3x3/2 to
 * C, then another 3x3/2 to C; cell 0 reads the last two, the first via a stride-2
 * 1x1). The graph ends like DARTS: global average pool and a classifier.
 *
 * Approximation (activations are fused into the producing op in our IR): DARTS's
 * ops begin with ReLU; here the producers end with it instead (the input 1x1 convs
 * and each node's sum have act 'relu'). Every DARTS op that reads a state ReLUs it
 * first, so this is the same computation except that skip edges and the
 * concatenation pass ReLU'd values. Shapes and wiring are unaffected.
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { DType, Graph } from '../../planner/ir.js';
import { Layers } from '../layers.js';
import { checkSeed, hashSeed, mulberry32, pick, randInt } from './rng.js';

export const DARTS_OPS = ['sep_conv_3x3', 'dil_conv_3x3', 'conv_1x1', 'skip'] as const;
export type DartsOp = (typeof DARTS_OPS)[number];

/** One intermediate node: two (state index, op) edges. States 0 and 1 are the cell inputs, 2 + j is node j. */
export type DartsNode = [[number, DartsOp], [number, DartsOp]];

export interface DartsGenotype {
  normal: DartsNode[];
  reduce: DartsNode[];
}

export interface DartsOptions {
  /** Number of cells (≥ 3 so that the two reduction cells are distinct). */
  cells: number;
  /** Intermediate nodes per cell (default 4, as in DARTS). */
  nodesPerCell?: number;
  seed: number;
  /** Width of the first cells (DARTS's init_channels C: 16 in search, 36 CIFAR, 48 ImageNet). */
  channels: number;
  /** Input height and width. */
  resolution: number;
  /** Classifier outputs (default 10; 0 = end at the pooled features). */
  classes?: number;
  dtype?: DType;
}

function drawCell(seed: number, kind: 'normal' | 'reduce', nodes: number): DartsNode[] {
  const rng = mulberry32(hashSeed(seed, `darts/${kind}`));
  const cell: DartsNode[] = [];
  for (let j = 0; j < nodes; j++) {
    const states = j + 2;
    const a = randInt(rng, states);
    let b = randInt(rng, states - 1);
    if (b >= a) b++; // two distinct inputs, as DARTS keeps the top-2 distinct predecessors
    const [lo, hi] = a < b ? [a, b] : [b, a];
    cell.push([
      [lo, pick(rng, DARTS_OPS)],
      [hi, pick(rng, DARTS_OPS)],
    ]);
  }
  return cell;
}

/** The normal and reduction cells drawn from `seed`. */
export function dartsGenotype(seed: number, nodesPerCell = 4): DartsGenotype {
  checkSeed('DARTS', seed);
  if (!Number.isInteger(nodesPerCell) || nodesPerCell < 1)
    throw new Error(`DARTS: nodesPerCell ${nodesPerCell} must be a positive integer`);
  return { normal: drawCell(seed, 'normal', nodesPerCell), reduce: drawCell(seed, 'reduce', nodesPerCell) };
}

/** Indices of the reduction cells: cells/3 and 2·cells/3, floored (DARTS model.py). */
export function dartsReductionCells(cells: number): number[] {
  return [...new Set([Math.floor(cells / 3), Math.floor((2 * cells) / 3)])];
}

export function buildDartsStack(options: DartsOptions): Graph {
  const { cells, seed, channels: C, resolution: res } = options;
  const nodesPerCell = options.nodesPerCell ?? 4;
  const classes = options.classes ?? 10;
  if (!Number.isInteger(cells) || cells < 3)
    throw new Error(`DARTS: cells = ${cells} must be an integer ≥ 3 (reductions at 1/3 and 2/3)`);
  if (!Number.isInteger(C) || C < 2 || C % 2 !== 0) throw new Error(`DARTS: channels ${C} must be an even integer ≥ 2`);
  if (!Number.isInteger(res) || res < 8) throw new Error(`DARTS: resolution ${res} must be an integer ≥ 8`);
  const genotype = dartsGenotype(seed, nodesPerCell);
  const reductions = new Set(dartsReductionCells(cells));

  const imagenetStem = res > 64;
  const L = new Layers(new GraphBuilder(`darts_c${cells}_n${nodesPerCell}_s${seed}`), options.dtype ?? 'f32');
  const input = L.input('input', [1, res, res, 3]);
  let s0: number;
  let s1: number;
  let prevReduction: boolean;
  if (imagenetStem) {
    const a = L.conv('stem0/conv0', input, C / 2, { kernel: 3, stride: 2, act: 'relu' });
    s0 = L.conv('stem0/conv1', a, C, { kernel: 3, stride: 2, act: 'relu' });
    s1 = L.conv('stem1/conv', s0, C, { kernel: 3, stride: 2, act: 'relu' });
    prevReduction = true;
  } else {
    s0 = s1 = L.conv('stem', input, 3 * C, { kernel: 3, stride: 1, act: 'relu' });
    prevReduction = false;
  }

  let width = C;
  for (let k = 0; k < cells; k++) {
    const reduction = reductions.has(k);
    if (reduction) width *= 2;
    const name = `cell${k}`;
    const states = [
      L.conv(`${name}/preprocess0`, s0, width, { stride: prevReduction ? 2 : 1, act: 'relu' }),
      L.conv(`${name}/preprocess1`, s1, width, { act: 'relu' }),
    ];
    const nodes = reduction ? genotype.reduce : genotype.normal;
    nodes.forEach((edges, j) => {
      const terms = edges.map(([from, op], e) => {
        const stride = reduction && from < 2 ? 2 : 1;
        return applyOp(L, `${name}/node${j}/edge${e}_${op}`, states[from]!, op, stride, width);
      });
      states.push(L.add(`${name}/node${j}/sum`, terms[0]!, terms[1]!, 'relu'));
    });
    const out = L.concat(`${name}/concat`, states.slice(2));
    s0 = s1;
    s1 = out;
    prevReduction = reduction;
  }
  let x = L.globalAvgPool('global_pool', s1, false);
  if (classes > 0) x = L.fullyConnected('classifier', x, classes);
  L.g.output(x);
  return L.g.finish();
}

function applyOp(L: Layers, name: string, x: number, op: DartsOp, stride: number, width: number): number {
  switch (op) {
    case 'sep_conv_3x3': {
      let h = L.depthwise(`${name}/dw0`, x, { stride });
      h = L.conv(`${name}/pw0`, h, width, { act: 'relu' });
      h = L.depthwise(`${name}/dw1`, h);
      return L.conv(`${name}/pw1`, h, width);
    }
    case 'dil_conv_3x3':
      return L.conv(`${name}/pw`, L.depthwise(`${name}/dw`, x, { stride, dilation: 2 }), width);
    case 'conv_1x1':
      return L.conv(name, x, width, { stride });
    case 'skip':
      return stride === 1 ? x : L.avgPool(name, x, 3, 2);
  }
}
