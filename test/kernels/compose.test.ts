// The kernels compose into the channel-split inverted-residual block of the paper's
// Section 5.1: for each chunk of expanded channels, 1x1 expansion (an N-slice
// of the expansion weights) → depthwise 3x3 (a channel slice) → 1x1 projection (a K-slice,
// accumulated into y; bias on the first chunk, residual and clamp on the last). The result
// must equal the unsplit block computed with the scalar references, for several chunk
// counts and both strides. (The first-layer trick, the stem by output-channel slices, is in conv.test.ts.)
import t from 'tap';
import { refAdd, refConv2d, refDepthwiseConv2d } from '../../src/reference/ops.js';
import { packDepthwise3x3, packGemm1x1 } from '../../src/kernels/pack.js';
import { Arena, BUILDS, kernelsFor, maxAbs, mismatch, rand, tfPad } from './harness.js';

const one = {
  stride: [1, 1] as [number, number],
  dilation: [1, 1] as [number, number],
  pad: { top: 0, bottom: 0, left: 0, right: 0 },
};

for (const build of BUILDS) {
  t.test(`chunked inverted-residual block equals the unsplit reference [${build.name}]`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const [H, W, Cin, exp, Cout, s] of [
      [9, 7, 16, 6, 16, 1],
      [10, 11, 24, 6, 32, 2],
      [5, 5, 8, 4, 8, 1],
    ] as const) {
      const Ce = Cin * exp;
      const x = rand(H * W * Cin, H * 31 + Cin),
        we = rand(Ce * Cin, 2),
        be = rand(Ce, 3);
      const wd = rand(9 * Ce, 4),
        bd = rand(Ce, 5),
        wp = rand(Cout * Ce, 6),
        bp = rand(Cout, 7);
      const py = tfPad(H, 3, s, 1, 'SAME'),
        px = tfPad(W, 3, s, 1, 'SAME');
      const OH = py.out,
        OW = px.out;
      const residual = s === 1 && Cin === Cout;
      // Unsplit reference.
      const e = refConv2d({ h: H, w: W, c: Cin, data: x }, we, Ce, 1, 1, be, { ...one, act: 'relu6' });
      const d = refDepthwiseConv2d(e, wd, 3, 3, 1, bd, {
        stride: [s, s],
        dilation: [1, 1],
        act: 'relu6',
        pad: { top: py.before, bottom: py.after, left: px.before, right: px.after },
      });
      let want = refConv2d(d, wp, Cout, 1, 1, bp, { ...one, act: 'none' }).data;
      if (residual) want = refAdd(want, x, 'none');

      for (const chunks of [1, 2, 3, 4, 7, Ce]) {
        a.reset();
        const xp = a.put('x', x);
        const yp = a.alloc('y', OH * OW * Cout * 4);
        const c = Math.ceil(Ce / chunks);
        const eBuf = a.alloc('expanded chunk', H * W * c * 4);
        const dBuf = a.alloc('depthwise chunk', OH * OW * c * 4);
        const bpp = a.put('project bias', bp);
        let first = true;
        for (let c0 = 0; c0 < Ce; c0 += c) {
          const cn = Math.min(c, Ce - c0);
          const last = c0 + cn >= Ce;
          const wep = a.put(`we[${c0}]`, packGemm1x1(we, Ce, Cin, c0, cn));
          const bep = a.put(`be[${c0}]`, be.subarray(c0, c0 + cn));
          a.call('f32_gemm_1x1', [xp, H * W, Cin, wep, bep, eBuf, cn, 0, 6, 0, 0]);
          const wdp = a.put(`wd[${c0}]`, packDepthwise3x3(wd, Ce, c0, cn));
          const bdp = a.put(`bd[${c0}]`, bd.subarray(c0, c0 + cn));
          a.call(s === 1 ? 'f32_dwconv3x3_s1' : 'f32_dwconv3x3_s2', [
            eBuf,
            H,
            W,
            cn,
            dBuf,
            OH,
            OW,
            py.before,
            px.before,
            wdp,
            bdp,
            0,
            6,
          ]);
          const wpp = a.put(`wp[${c0}]`, packGemm1x1(wp, Cout, Ce, 0, Cout, c0, cn));
          a.call('f32_gemm_1x1', [
            dBuf,
            OH * OW,
            cn,
            wpp,
            first ? bpp : 0,
            yp,
            Cout,
            -Infinity,
            Infinity,
            last && residual ? xp : 0,
            first ? 0 : 1,
          ]);
          first = false;
        }
        t.equal(
          mismatch(a.read(yp, want.length), want, maxAbs(want)),
          null,
          `${H}x${W}x${Cin} t=${exp} → ${Cout} s${s}, ${chunks} chunks of ≤${c}`,
        );
      }
    }
  });
}
