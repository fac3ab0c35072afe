// Heap growth of the TFLite-WASM peer for load + one inference. Its own file
// (so its own process): the high-water mark only means "this model's growth"
// for the first model loaded into the emscripten module.
import t from 'tap';
import { statSync } from 'node:fs';
import { createTfliteRunner, HOW_TO_INSTALL, tfliteInstallDir } from '../../bench/tflite/runner.mjs';
import { fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';

const MODEL = 'mobilenet_v2_1.0_224_quant.tflite';

t.test(
  'TFLite-WASM peer: heap high-water growth over load + one inference',
  { skip: skipWithout(tfliteInstallDir() ? false : HOW_TO_INSTALL) || skipUnless('models', MODEL) },
  async (t) => {
    const file = fixturePath('models', MODEL);
    const runner = await createTfliteRunner(file, { threads: 1 });
    t.teardown(() => runner.dispose());
    const afterLoad = runner.heap();
    t.ok(
      afterLoad.before.highWaterBytes > 0,
      `baseline taken once the module was up (${afterLoad.before.highWaterBytes} B of static data, stack and early allocations)`,
    );
    // The loader copies the whole .tflite file into the heap, and the
    // interpreter allocates above it, so the mark rises at least by the file size.
    t.ok(
      afterLoad.highWaterGrowthBytes >= statSync(file).size,
      `load: +${afterLoad.highWaterGrowthBytes} B ≥ the ${statSync(file).size} B model copy`,
    );
    runner.run(new Uint8Array(224 * 224 * 3).fill(128));
    const afterRun = runner.heap();
    t.ok(afterRun.highWaterGrowthBytes >= afterLoad.highWaterGrowthBytes, 'the mark never goes down');
    t.ok(afterRun.now.highWaterBytes <= afterRun.now.memoryBytes, 'the mark lies inside the WebAssembly memory');
    t.equal(afterRun.before.memoryBytes, afterLoad.before.memoryBytes, 'same baseline on every call');
  },
);
