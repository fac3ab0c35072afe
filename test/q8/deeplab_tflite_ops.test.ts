// The ops of the DeepLab head that the MobileNetV2 classifiers do not have, op by op against
// TFLite itself (the bench/tflite peer, XNNPACK delegate): each op of the q8 reference
// interpreter is fed TFLite's own input tensors (read through a model copy whose subgraph
// output is that tensor) and must give TFLite's output bytes exactly. Covers AVERAGE_POOL_2D
// over 33x33, the image-pooling RESIZE_BILINEAR (1x1 → 33x33), QUANTIZE u8 → u8 (XNNPACK's
// fixed-point convert), CONCATENATION, the 33x33 → 33x33 and 33x33 → 513x513 resizes
// (align_corners), and ARG_MAX (its INT64 output cannot be read back: checked through the
// reference's argmax_sha256_uint8 of TFLite's resized scores).
import t from 'tap';
import { createHash } from 'node:crypto';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { refQArgMax } from '../../src/reference/q8_ops.js';
import { HOW_TO_INSTALL, tfliteInstallDir } from '../../bench/tflite/runner.mjs';
import { tfliteTensor } from '../helpers/tflite_outputs.js';
import { fixturePath, readReference, skipUnless, skipWithout } from '../helpers/fixtures.js';

const notInstalled = skipWithout(tfliteInstallDir() ? false : HOW_TO_INSTALL);

for (const name of ['deeplabv3_mnv2_pascal_quant', 'deeplabv3_mnv2_dm05_pascal_quant']) {
  const skip = notInstalled || skipUnless('models', `${name}.tflite`) || skipUnless('reference', `${name}.json`);
  t.test(`${name}: head ops equal TFLite's on its own inputs`, { skip }, async (t) => {
    const ref = readReference(`${name}.json`).results[0] as {
      image: string;
      input_sha256: string;
      argmax_sha256_uint8: string;
    };
    const path = fixturePath('models', `${name}.tflite`);
    const model = await loadTfliteFile(path);
    const g = model.graph;
    const input = await loadModelInput(fixturePath(ref.image), 513, 513);
    t.equal(input.sha256, ref.input_sha256);
    const cache = new Map<number, Uint8Array>([[g.inputs[0]!, input.bytes]]);
    const tensor = async (id: number) => {
      let v = cache.get(id);
      if (!v) cache.set(id, (v = await tfliteTensor(path, g.tensors[id]!.name, input.bytes)));
      return v;
    };
    const kinds = new Set(['global_avgpool', 'resize_bilinear', 'quantize', 'concat']);
    const seen: string[] = [];
    for (const op of g.ops.filter((o) => kinds.has(o.kind))) {
      const given = new Map<number, Uint8Array>();
      for (const i of op.inputs) given.set(i, await tensor(i));
      const want = await tensor(op.outputs[0]!);
      const got = interpretQ8(g, model.constants, given, [op]).get(op.outputs[0]!)!;
      let bad = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad++;
      const shape = (id: number) => g.tensors[id]!.shape.join('x');
      t.ok(
        got.length === want.length && bad === 0,
        `${op.kind} '${op.name}' ${op.inputs.map(shape).join(' + ')} → ${shape(op.outputs[0]!)}: ${bad} of ${want.length} bytes differ`,
      );
      seen.push(op.kind);
    }
    t.same([...new Set(seen)].sort(), [...kinds].sort(), 'every op kind checked');
    // ARG_MAX: TFLite's resized scores through the reference arg-max give TFLite's class map.
    const argmax = g.ops.find((o) => o.kind === 'argmax')!;
    const scores = await tensor(argmax.inputs[0]!);
    const ids = Uint8Array.from(refQArgMax(scores, g.tensors[argmax.inputs[0]!]!.shape[3]!));
    t.equal(
      createHash('sha256').update(ids).digest('hex'),
      ref.argmax_sha256_uint8,
      "arg-max of TFLite's uint8 scores is TFLite's class map",
    );
  });
}
