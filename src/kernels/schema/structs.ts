/**
 * Structs that cross the boundary between the lowering (TypeScript) and the kernels
 * (AssemblyScript): little-endian int32 words in field order, padded to `bytes`. The
 * generator (generate.ts) emits from each a writer that takes named fields
 * (src/kernels/gen/abi.ts) and byte-offset constants for the kernels (assembly/gen/abi.ts),
 * so that both sides read one declaration.
 */

export interface StructField {
  /** Field name in the writers' argument (camelCase); the AssemblyScript constant is PREFIX_UPPER_SNAKE. */
  readonly name: string;
  readonly doc: string;
}

export interface StructSpec {
  /** Type stem of the TypeScript side: `${name}Fields`, `write${name}`. */
  readonly name: string;
  /** Prefix of the AssemblyScript offset constants. */
  readonly prefix: string;
  readonly doc: string;
  /** Bytes of one struct: the fields (4 bytes each) and padding that keeps what follows 16-byte aligned. */
  readonly bytes: number;
  readonly fields: readonly StructField[];
  /** A variable-length array of another struct after the fixed part, with its count in `count`. */
  readonly array?: { readonly name: string; readonly of: StructSpec; readonly count: string };
}

const fields = (...f: [string, string][]): StructField[] => f.map(([name, doc]) => ({ name, doc }));

/**
 * Output parameter block of a q8 kernel (assembly/q8_common.ts explains the arithmetic):
 * requantization of the op's own output, optionally the residual ADD of an inverted
 * residual block's projection (XNNPACK's fixed-point add), and the uint8 weights' zero point.
 */
export const Q8_RQ: StructSpec = {
  name: 'Q8Rq',
  prefix: 'Q8_RQ',
  doc: 'q8 output parameters: requantization, optional residual ADD, uint8 weight zero point',
  bytes: 48,
  fields: fields(
    ['z', 'output zero point'],
    ['lo', 'lowest output value (activation clamp)'],
    ['hi', 'highest output value'],
    ['residual', '1: the value above is a projection P, and y = ADD(P, res) with the fields below'],
    ['zRes', 'zero point of the residual input'],
    ['mP', 'fixed-point multiplier of P − z'],
    ['mRes', 'fixed-point multiplier of res − zRes'],
    ['shift', 'right shift of the sum (1..31)'],
    ['zY', 'zero point of the ADD output'],
    ['loY', 'lowest ADD output value'],
    ['hiY', 'highest ADD output value'],
    ['zw', 'zero point of uint8 weights (int8 weights are packed with theirs subtracted)'],
  ),
};

/**
 * One tile of a fused q8 block (assembly/q8_block.ts): output rows [r0, r1) × columns
 * [q0, q1) × channels [n0, n1), inner channels in groups of G, and where its int32
 * accumulator lives.
 */
export const Q8_TILE: StructSpec = {
  name: 'Q8Tile',
  prefix: 'Q8_TILE',
  doc: 'q8 fused-block tile',
  bytes: 48,
  fields: fields(
    ['r0', 'first output row'],
    ['r1', 'end output row (exclusive)'],
    ['q0', 'first output column'],
    ['q1', 'end output column (exclusive)'],
    ['n0', 'first output channel (a multiple of 8 unless the accumulator is scalar)'],
    ['n1', 'end output channel (exclusive)'],
    ['G', 'inner channels per group, a multiple of the unit'],
    ['acc', 'accumulator home: 0 none (one group), 1 E, 2 D, 3 y'],
    ['accOffset', 'accumulator byte offset inside its home'],
  ),
};

/**
 * Descriptor of a fused q8 inverted residual block (paper Section 5.1; assembly/q8_block.ts):
 * shapes of the three convolutions, zero points, byte offsets (from the weights base) of
 * the packed weights, biases, multipliers and Q8_RQ blocks, the unit of inner channels,
 * then the tiles.
 */
export const Q8_BLOCK_DESC: StructSpec = {
  name: 'Q8BlockDesc',
  prefix: 'Q8_DESC',
  doc: 'q8 fused-block descriptor',
  bytes: 192,
  fields: fields(
    ['signed', '1: int8 activations and weights, 0: uint8'],
    ['expKind', 'expansion: 0 = 1x1 GEMM, 1 = dense conv (the 3x3/2 stem)'],
    ['hx', 'block input height'],
    ['wx', 'block input width'],
    ['cin', 'block input channels'],
    ['he', 'expanded height'],
    ['we', 'expanded width'],
    ['cexp', 'inner (expanded) channels'],
    ['hd', 'depthwise output height'],
    ['wd', 'depthwise output width'],
    ['cout', 'block output channels'],
    ['ekh', 'expansion kernel height'],
    ['ekw', 'expansion kernel width'],
    ['esh', 'expansion stride (rows)'],
    ['esw', 'expansion stride (columns)'],
    ['edh', 'expansion dilation (rows)'],
    ['edw', 'expansion dilation (columns)'],
    ['ept', 'expansion padding (top)'],
    ['epl', 'expansion padding (left)'],
    ['dsh', 'depthwise stride (rows)'],
    ['dsw', 'depthwise stride (columns)'],
    ['ddh', 'depthwise dilation (rows)'],
    ['ddw', 'depthwise dilation (columns)'],
    ['dpt', 'depthwise padding (top)'],
    ['dpl', 'depthwise padding (left)'],
    ['zx', 'block input zero point (pads the stem conv)'],
    ['ze', 'expanded zero point (pads the depthwise)'],
    ['wExp', 'expansion weights (from the weights base)'],
    ['bExp', 'expansion folded biases'],
    ['sExp', 'expansion multipliers'],
    ['rqExp', 'expansion Q8_RQ block'],
    ['wDw', 'depthwise tap pairs'],
    ['wsDw', 'bytes between depthwise tap-pair rows'],
    ['bDw', 'depthwise folded biases'],
    ['sDw', 'depthwise multipliers'],
    ['rqDw', 'depthwise Q8_RQ block'],
    ['wProj', 'projection weights'],
    ['psProj', 'bytes between projection panels'],
    ['bProj', 'projection folded biases'],
    ['sProj', 'projection multipliers'],
    ['rqProj', 'projection Q8_RQ block (with the residual ADD)'],
    ['unit', 'inner channels per unit: 8 (panels) or 1'],
    ['uExp', 'bytes of one expansion unit'],
    ['uProj', 'bytes of one unit of projection k-range'],
    [
      'persist',
      '1: a row-streamed block keeping its expanded rows (every inner channel, whole rows) in E across calls',
    ],
  ),
  array: { name: 'tiles', of: Q8_TILE, count: 'nTiles' },
};

export const STRUCTS: readonly StructSpec[] = [Q8_RQ, Q8_TILE, Q8_BLOCK_DESC];
