/**
 * TFLite compiled to WebAssembly (@tensorflow/tfjs-tflite 0.0.1-alpha.10) as
 * a benchmark peer in Node 20: the single-threaded SIMD build
 * (wasm/tflite_web_api_cc_simd.wasm) with the XNNPACK delegate, 1 thread.
 *
 * tfjs-tflite is written for browsers and web workers. Its loader treats any
 * context without `window` as a worker: it picks a build from a SIMD probe
 * and a threads probe, loads the emscripten glue with `importScripts`, and
 * the glue then fetches the .wasm next to `self.location`. The shim below
 * supplies exactly those worker pieces (see
 * ../shared/fixtures/reference/README.md, "Reproduce"):
 *   - `self`, `location` and `importScripts` (the glue is run with
 *     vm.runInThisContext so its `var tflite_web_api_ModuleFactory` becomes a
 *     global, as a classic worker script would);
 *   - the .wasm bytes go in as `Module.wasmBinary`, so nothing is fetched;
 *   - the threads probe posts a SharedArrayBuffer through a MessageChannel;
 *     a MessageChannel that throws while the build is chosen makes it fail,
 *     so the loader picks `_simd.js` rather than `_simd_threaded.js`;
 *   - `numThreads` is always passed (the default reads `navigator`, which
 *     Node 20 does not have).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const require = createRequire(import.meta.url);

/** The emscripten build this peer must run: WASM SIMD128, no threads. */
export const TFLITE_BUILD = 'tflite_web_api_cc_simd';
const FACTORY = 'tflite_web_api_ModuleFactory';

/** Where the tfjs-tflite package of bench/tflite lives, or undefined when `npm ci --prefix bench/tflite` has not been run. */
export function tfliteInstallDir() {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', '@tensorflow', 'tfjs-tflite');
  return existsSync(join(dir, 'package.json')) ? dir : undefined;
}

export const HOW_TO_INSTALL =
  'bench/tflite is not installed: run `npm ci --prefix bench/tflite` (TFLite-WASM peer, its own package because tfjs-tflite pins @tensorflow/tfjs-core 4.9.0)';

let shim; // { wasmDir, module?: emscripten Module, initialHeapBytes, initialHighWater, scriptsLoaded, refused, log (TFLite's stderr) }

function installShim(wasmDir) {
  if (shim) return shim;
  const state = {
    wasmDir,
    module: undefined,
    initialHeapBytes: 0,
    initialHighWater: 0,
    scriptsLoaded: [],
    refused: [],
    log: [],
  };
  const script = join(wasmDir, `${TFLITE_BUILD}.js`);
  const wasmBinary = readFileSync(join(wasmDir, `${TFLITE_BUILD}.wasm`));
  const g = globalThis;
  if (g.self === undefined) g.self = g;
  if (g.location === undefined) {
    // The loader builds the script URL as location.origin + path when the
    // wasm path starts with '/'; an empty origin leaves the plain file path.
    g.location = { href: pathToFileURL(wasmDir + '/').href, origin: '' };
  }
  g.importScripts = (...urls) => {
    for (const url of urls) {
      // Only the script under our wasm path. Requiring tf-tflite.node.js also
      // starts an eager load from the default path (location-relative, a
      // file: URL here); refusing it makes that load give up quietly (its
      // loader catches the error) instead of instantiating a second module.
      if (String(url) !== script) {
        state.refused.push(String(url));
        throw new Error(
          `tfjs-tflite shim: refusing '${url}'; only ${script} (the single-threaded SIMD build) is loaded`,
        );
      }
      vm.runInThisContext(readFileSync(script, 'utf8'), { filename: script });
      state.scriptsLoaded.push(basename(script));
      const factory = g[FACTORY];
      if (typeof factory !== 'function') throw new Error(`tfjs-tflite shim: ${script} did not define ${FACTORY}`);
      // The loader passes its own options (locateFile, mainScriptUrlOrBlob);
      // add the wasm bytes, keep TFLite's log, and keep the instance to read
      // its heap.
      g[FACTORY] = (opts = {}) =>
        factory({ ...opts, wasmBinary, printErr: (text) => state.log.push(String(text)) }).then((m) => {
          state.module = m;
          state.initialHeapBytes = m.HEAPU8.length;
          state.initialHighWater = highWater(m.HEAPU8);
          return m;
        });
    }
  };
  shim = state;
  return state;
}

/**
 * One past the highest non-zero byte of the WebAssembly memory. The memory
 * starts zeroed and emscripten's malloc takes new space upward from the end
 * of the static data and stack, so this is the heap's high-water mark
 * (freed blocks keep their bytes, so it never goes down). The memory itself
 * does not grow for this model: it starts at 32 MiB, larger than TFLite needs.
 */
function highWater(heap) {
  const words = new Uint32Array(heap.buffer, 0, heap.byteLength >>> 2);
  let i = words.length - 1;
  while (i >= 0 && words[i] === 0) i--;
  if (i < 0) return 0;
  let end = (i + 1) * 4;
  while (end > 0 && heap[end - 1] === 0) end--;
  return end;
}

/** Runs `fn` with a MessageChannel whose constructor throws, so the threads probe reports no multithreading. */
async function withoutThreads(fn) {
  const g = globalThis;
  const saved = g.MessageChannel;
  g.MessageChannel = class {
    constructor() {
      throw new Error('threads disabled for the TFLite peer');
    }
  };
  try {
    return await fn();
  } finally {
    g.MessageChannel = saved;
  }
}

/**
 * Loads a .tflite file into TFLite-WASM (XNNPACK, SIMD, single-threaded).
 * `profiling: true` turns on TFLite's op profiler (slower; not for timing);
 * it keeps `maxProfilingBufferEntries` events (default 1024, tfjs-tflite's),
 * one per node and per XNNPACK operator of every run, the oldest overwritten.
 * `run` copies the bytes into the first input tensor, runs the interpreter
 * and returns a copy of the first output tensor's raw bytes.
 */
export async function createTfliteRunner(modelPath, opts = { threads: 1 }) {
  const threads = opts.threads ?? 1;
  const profiling = opts.profiling ?? false;
  const maxProfilingBufferEntries = opts.maxProfilingBufferEntries ?? 1024;
  if (threads !== 1)
    throw new Error(`createTfliteRunner: only threads: 1 is supported (the single-threaded build), got ${threads}`);
  const pkgDir = tfliteInstallDir();
  if (!pkgDir) throw new Error(HOW_TO_INSTALL);
  const state = installShim(join(pkgDir, 'wasm'));
  const modelBytes = readFileSync(modelPath);

  const memoryBytes = () => (state.module ? state.module.HEAPU8.length : 0);
  const highWaterNow = () => (state.module ? highWater(state.module.HEAPU8) : 0);
  const alreadyUp = state.module !== undefined;
  const logStart = state.log.length;
  const before = { memoryBytes: memoryBytes(), highWaterBytes: highWaterNow() };
  const model = await withoutThreads(async () => {
    // Required here, not at the top: loading the bundle probes the WASM
    // features at once (for its eager load), and that probe must fail too,
    // since the first answer is cached for every later load.
    const tflite = require(join(pkgDir, 'dist', 'tf-tflite.node.js'));
    const features = await tflite.getWasmFeatures();
    if (!features.simd) throw new Error('TFLite peer: WebAssembly SIMD is not available in this Node');
    if (features.multiThreading)
      throw new Error('TFLite peer: the threads probe succeeded; the threaded build would be chosen');
    tflite.setWasmPath(join(state.wasmDir, '/'));
    const ab = modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength);
    try {
      return await tflite.loadTFLiteModel(ab, {
        numThreads: threads,
        enableProfiling: profiling,
        maxProfilingBufferEntries,
      });
    } catch (e) {
      // A refused script shows up here only as a missing module.
      const mine = state.refused.filter((u) => u.startsWith(state.wasmDir));
      if (mine.length > 0)
        throw new Error(
          `TFLite peer: the loader asked for ${mine.join(', ')} instead of the single-threaded SIMD build`,
        );
      throw e;
    }
  });
  if (state.scriptsLoaded.length !== 1)
    throw new Error(`TFLite peer: expected one emscripten build loaded, got [${state.scriptsLoaded.join(', ')}]`);
  // TFLite logs to stderr when it first creates the XNNPACK delegate (once
  // per process); profile() shows which nodes it took.
  const modelLog = state.log.slice(logStart);
  if (!state.log.some((l) => l.includes('XNNPACK delegate')))
    throw new Error(
      `TFLite peer: no XNNPACK delegate was created for ${modelPath} (TFLite said: ${state.log.join(' | ') || 'nothing'})`,
    );
  // When this call brought the module up, the baseline is the module as it
  // stood before the loader copied the model in.
  if (!alreadyUp)
    Object.assign(before, { memoryBytes: state.initialHeapBytes, highWaterBytes: state.initialHighWater });

  const runner = model.modelRunner;
  const inputs = runner.getInputs();
  const outputs = runner.getOutputs();
  if (inputs.length !== 1) throw new Error(`${modelPath}: expected 1 input tensor, the model has ${inputs.length}`);
  const input = inputs[0];
  const output = outputs[0];
  const inputBytes = input.data().byteLength;

  const run = (bytes) => {
    if (bytes.byteLength !== inputBytes) {
      throw new Error(
        `${modelPath}: input '${input.name}' [${input.shape}] ${input.dataType} takes ${inputBytes} bytes, got ${bytes.byteLength}`,
      );
    }
    // data() is a view into the current WASM heap; take it fresh each run in
    // case the heap grew (a grown memory detaches old views).
    const inView = input.data();
    new Uint8Array(inView.buffer, inView.byteOffset, inView.byteLength).set(bytes);
    if (!runner.infer()) throw new Error(`${modelPath}: TFLite infer() failed`);
    const outView = output.data();
    return new Uint8Array(outView.buffer, outView.byteOffset, outView.byteLength).slice();
  };

  return {
    name: 'TFLite-WASM (tfjs-tflite 0.0.1-alpha.10, XNNPACK, SIMD, 1 thread)',
    build: `${TFLITE_BUILD}.wasm`,
    log: modelLog,
    input: { name: input.name, dataType: input.dataType, shape: input.shape },
    output: { name: output.name, dataType: output.dataType, shape: output.shape },
    run,
    /**
     * The WebAssembly memory of the TFLite module: its size and heap
     * high-water mark now and before this model was loaded. Call it after
     * the first run for the growth of load + inference. Scans the memory
     * (a few ms); not for timed loops.
     */
    heap() {
      const now = { memoryBytes: memoryBytes(), highWaterBytes: highWaterNow() };
      return {
        before: { ...before },
        now,
        memoryGrowthBytes: now.memoryBytes - before.memoryBytes,
        highWaterGrowthBytes: now.highWaterBytes - before.highWaterBytes,
      };
    },
    /**
     * Per-node times of every run still in the profiler's buffer, in run order (needs
     * `profiling: true`), in whole milliseconds: delegated parts appear as
     * 'TfLiteXNNPackDelegate' nodes.
     */
    profile() {
      if (!profiling) throw new Error('createTfliteRunner: profile() needs { profiling: true }');
      return runner
        .getProfilingResults()
        .map((p) => ({ nodeType: p.nodeType, nodeName: p.nodeName, nodeExecMs: p.nodeExecMs }));
    },
    /**
     * TFLite's profile summary text (needs `profiling: true`): per node, and in a
     * "Delegate internal" part per XNNPACK operator, the first and mean time in
     * microsecond steps. Each call adds every event in the buffer to the summary's
     * running statistics again (src/profile/tflite.ts takes the runs between two calls apart).
     */
    profileSummary() {
      if (!profiling) throw new Error('createTfliteRunner: profileSummary() needs { profiling: true }');
      return runner.getProfilingSummary();
    },
    dispose() {
      runner.cleanUp();
    },
  };
}
