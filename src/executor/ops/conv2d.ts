/**
 * CONV_2D: 1x1 convolutions as GEMMs, the 3x3 stride-2 stem, and any other
 * kernel size through the generic convolution; float and integer.
 */
import type { Conv2DOp } from '../../../planner/ir.js';
import {
  packConv,
  packConv3x3,
  packConv3x3Length,
  packConvLength,
  packGemm1x1,
  packGemm1x1Length,
} from '../../kernels/pack.js';
import {
  foldQ8Bias,
  packQ8Conv,
  packQ8ConvLength,
  packQ8Gemm,
  packQ8GemmLength,
  padQ8Scales,
  q8OutputParams,
  Q8_NR,
} from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import {
  biasConst,
  clampOf,
  f32Const,
  intConst,
  ioQuant,
  ioQuantizedReason,
  is1x1,
  is3x3s2,
  kernelZeroPoint,
  nhwc,
  weightsReason,
  type OpLowering,
} from './context.js';

const roundUp8 = (n: number) => Math.ceil(n / Q8_NR) * Q8_NR;

export const conv2d: OpLowering<Conv2DOp> = {
  float({ model, graph: g, weights: W }, op) {
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const [lo, hi] = clampOf(op.act);
    const b = W.add(4 * y.c, () => (op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(y.c)));
    const [kh, kw] = op.kernel;
    const w = () => f32Const(model, op.weights, op);
    if (is1x1(op)) {
      const pw = W.add(4 * packGemm1x1Length(y.c, x.c), () => packGemm1x1(w(), y.c, x.c));
      return (c) => {
        const [xs, ys, wa, ba, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.weight(pw), c.weight(b), c.k];
        return () => k.f32_gemm_1x1(xs, x.h * x.w, x.c, wa, ba, ys, y.c, lo, hi, 0, 0);
      };
    }
    if (is3x3s2(op)) {
      const pw = W.add(4 * packConv3x3Length(y.c, x.c), () => packConv3x3(w(), y.c, x.c));
      return (c) => {
        const [xs, ys, wa, ba, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.weight(pw), c.weight(b), c.k];
        return () => k.f32_conv3x3_s2(xs, x.h, x.w, x.c, ys, y.h, y.w, y.c, op.pad.top, op.pad.left, wa, ba, lo, hi);
      };
    }
    const pw = W.add(4 * packConvLength(y.c, kh, kw, x.c), () => packConv(w(), y.c, kh, kw, x.c));
    const [sh, sw] = op.stride;
    const [dh, dw] = op.dilation;
    return (c) => {
      const [xs, ys, wa, ba, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.weight(pw), c.weight(b), c.k];
      return () =>
        k.f32_conv2d_generic(
          xs,
          x.h,
          x.w,
          x.c,
          ys,
          y.h,
          y.w,
          y.c,
          kh,
          kw,
          sh,
          sw,
          dh,
          dw,
          op.pad.top,
          op.pad.left,
          wa,
          ba,
          lo,
          hi,
        );
    };
  },

  integerUnsupported: (g, op) => weightsReason(g.tensors[op.weights]!) ?? ioQuantizedReason(g, op),

  integer({ model, graph: g, weights: W }, op) {
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const { scale, zw } = weightQuant(g, op, y.c);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const [kh, kw] = op.kernel;
    const K = kh * kw * x.c;
    const w = () => intConst(model, op.weights, op);
    const pb = W.add(4 * roundUp8(y.c), () => foldQ8Bias(biasConst(model, op.bias, op), w(), y.c, K, zw, xq.z));
    const ps = W.put(padQ8Scales(scale, y.c));
    const prq = W.put(q8OutputParams(yq.z, lo, hi, undefined, kernelZeroPoint(g.tensors[op.weights]!)));
    if (is1x1(op)) {
      const pw = W.add(packQ8GemmLength(y.c, x.c), () => packQ8Gemm(w(), y.c, x.c, zw));
      return (c) => {
        const [xs, ys, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.k];
        const [wa, ba, sa, rq] = [c.weight(pw), c.weight(pb), c.weight(ps), c.weight(prq)];
        return () => k.q8_gemm(xs, x.h * x.w, x.c, x.c, wa, y.c, ba, sa, ys, y.c, rq, 0, 0, sg);
      };
    }
    const dil = op.dilation[1];
    const pw = W.add(packQ8ConvLength(y.c, kh, kw, x.c, dil), () => packQ8Conv(w(), y.c, kh, kw, x.c, zw, 0, y.c, dil));
    const [sh, sw] = op.stride;
    const [dh, dw] = op.dilation;
    return (c) => {
      const [xs, ys, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.k];
      const [wa, ba, sa, rq] = [c.weight(pw), c.weight(pb), c.weight(ps), c.weight(prq)];
      return () =>
        k.q8_conv2d(
          xs,
          x.h,
          x.w,
          x.c,
          ys,
          y.h,
          y.w,
          y.c,
          kh,
          kw,
          sh,
          sw,
          dh,
          dw,
          op.pad.top,
          op.pad.left,
          wa,
          ba,
          sa,
          rq,
          xq.z,
          sg,
        );
    };
  },
};
