// FlexBuffers map reader vs the flatbuffers package's encoder; post-process options from them.
import t from 'tap';
import * as flex from 'flatbuffers/js/flexbuffers.js';
import { FlexBufferError, parseDetectionPostProcessOptions, readFlexMap } from '../../src/detect/index.js';

t.test('scalars of every width and kind, inline and indirect, as the encoder wrote them', async (t) => {
  // Values a 4-byte slot holds. (The JS encoder writes a float32-exact value as 4 bytes even
  // into an 8-byte slot, which its own reader and C++ read wrongly, so wide values get their own map.)
  const obj = {
    small: 3,
    negative: -300,
    wide: 70000,
    half: 0.5,
    f32: Math.fround(0.6),
    yes: true,
    no: false,
    nothing: null,
    name: 'TFLite_Detection_PostProcess',
  };
  const got = readFlexMap(flex.encode(obj));
  t.same(got, obj);
  t.same(Object.keys(got).sort(), Object.keys(obj).sort());
  const wide = { huge: 2 ** 40 + 5, negHuge: -(2 ** 35), third: 1 / 3, one: 1 };
  t.same(readFlexMap(flex.encode(wide)), wide, '8-byte slots');

  const b = flex.builder();
  b.startMap();
  b.addKey('int_ind');
  b.addInt(-123456, true);
  b.addKey('uint_ind');
  b.addUInt(4000000000, true);
  b.addKey('float_ind');
  b.addFloat(2.25, true);
  b.addKey('plain');
  b.addUInt(7);
  b.end();
  t.same(readFlexMap(b.finish()), { int_ind: -123456, uint_ind: 4000000000, float_ind: 2.25, plain: 7 });
  const nested = readFlexMap(flex.encode({ a: 1, v: [1, 2], m: { x: 1 } }));
  t.same(nested, { a: 1, v: undefined, m: undefined }, 'vectors and maps are not scalars');
});

t.test('malformed buffers give FlexBufferError, never another exception', async (t) => {
  t.throws(() => readFlexMap(new Uint8Array([1])), FlexBufferError);
  t.throws(() => readFlexMap(flex.encode(5)), /root has type 1, expected a map/);
  t.throws(() => readFlexMap(flex.encode([1, 2])), /expected a map/);
  const good = flex.encode({ max_detections: 10, nms_iou_threshold: 0.6, num_classes: 90, y_scale: 10 });
  t.throws(() => readFlexMap(good.subarray(4)), FlexBufferError, 'truncated at the front');
  let seed = 9;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const bad = good.slice();
    const flips = 1 + Math.floor(r() * 3);
    for (let k = 0; k < flips; k++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
    try {
      readFlexMap(bad);
    } catch (e) {
      if (!(e instanceof FlexBufferError)) t.fail(`case ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      errors++;
    }
  }
  t.ok(errors > 100, `${errors} of 3000 corrupted buffers refused, the rest read`);
});

t.test('TFLite_Detection_PostProcess options: keys, defaults, checks', async (t) => {
  const base = {
    max_detections: 10,
    max_classes_per_detection: 1,
    nms_score_threshold: 9.99999993922529e-9,
    nms_iou_threshold: 0.6000000238418579,
    num_classes: 90,
    y_scale: 10,
    x_scale: 10,
    h_scale: 5,
    w_scale: 5,
  };
  const o = parseDetectionPostProcessOptions(readFlexMap(flex.encode(base)));
  t.same(o, {
    maxDetections: 10,
    maxClassesPerDetection: 1,
    detectionsPerClass: 100,
    useRegularNms: false,
    scoreThreshold: base.nms_score_threshold,
    iouThreshold: base.nms_iou_threshold,
    numClasses: 90,
    scales: { y: 10, x: 10, h: 5, w: 5 },
  });
  const regular = parseDetectionPostProcessOptions(
    readFlexMap(flex.encode({ ...base, use_regular_nms: true, detections_per_class: 7 })),
  );
  t.same([regular.useRegularNms, regular.detectionsPerClass], [true, 7]);
  const { num_classes: _drop, ...missing } = base;
  t.throws(
    () => parseDetectionPostProcessOptions(readFlexMap(flex.encode(missing))),
    /custom option 'num_classes' is missing/,
  );
  t.throws(
    () => parseDetectionPostProcessOptions({ ...base, max_detections: 2.5 }),
    /'max_detections' is 2.5, not an integer/,
  );
  t.throws(
    () => parseDetectionPostProcessOptions({ ...base, nms_iou_threshold: 0 }),
    /nms_iou_threshold 0 must be in \(0, 1\]/,
  );
  t.throws(() => parseDetectionPostProcessOptions({ ...base, x_scale: 0 }), /x_scale is 0/);
  t.throws(
    () => parseDetectionPostProcessOptions({ ...base, num_classes: 'ninety' }),
    /'num_classes' is "ninety", not a number/,
  );
});
