// bench/classify_int8.ts labels its lowwater row by the numeric path that ran.
import t from 'tap';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { prepareRun } from '../../src/run_setup.js';
import { lowwaterPath } from '../../bench/lowwater_path.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const MODEL = ['models', 'mobilenet_v2_1.0_224_quant.tflite'] as const;

t.test(
  'a quantized file: the path prepareRun picked is named, and mismatched signs are an error',
  { skip: skipUnless(...MODEL) },
  async (t) => {
    const loaded = await loadTfliteFile(fixturePath(...MODEL));
    const setup = await prepareRun(loaded, { kernels: await loadKernels() });
    const out = setup.executor.runPixels(new Uint8Array(224 * 224 * 3).fill(128)).output as ArrayBufferView;
    const execDtype = setup.model.graph.tensors[setup.model.graph.outputs[0]!]!.dtype;
    // Whichever path this build has, the label follows the executed model.
    t.equal(
      lowwaterPath(setup, out),
      execDtype === 'f32' ? 'float32' : 'integer',
      `executed output ${execDtype}, run returned ${out.constructor.name}`,
    );
    // The file as imported keeps its uint8 output: with integer output bytes that is the integer path.
    t.equal(lowwaterPath({ model: loaded }, new Uint8Array(1001)), 'integer');
    t.throws(
      () => lowwaterPath({ model: loaded }, new Float32Array(1001)),
      /is u8 but the run returned a Float32Array/,
    );
    if (execDtype === 'f32')
      t.throws(() => lowwaterPath(setup, new Uint8Array(1001)), /is f32 but the run returned a Uint8Array/);
  },
);
