/**
 * Image classification at the edge with lowwater: a module worker for
 * Cloudflare Workers (workerd).
 *
 *   POST /            body: PNG or JPEG bytes → JSON { top, inputSha256, latencyMs, memory, ... }
 *        ?top=N       how many classes (default 5)
 *        ?raw=1       also the whole output tensor (integer path: its raw uint8/int8 values)
 *   GET  /model       what was loaded: numeric path, input size, plan, memory
 *   GET  /            usage
 *
 * workerd does not compile WebAssembly from bytes at run time, so the kernels
 * come in as a module compiled at deploy time (`lowwater/kernels.wasm`, a
 * CompiledWasm module) and are passed to loadModel. The model and its labels
 * are part of the script too (Data and Text modules): see README.md for where
 * to put them.
 */
import { loadModel, ImageError, type Model, type WebImage } from 'lowwater/web';
import kernels from 'lowwater/kernels.wasm';
import modelBytes from './models/mobilenet_v2_1.0_224_quant.tflite';
import labelsText from './models/imagenet_labels.txt';

/** Larger bodies are refused before decoding: an isolate has 128 MB in all. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

interface Loaded {
  model: Model<WebImage>;
  /**
   * loadModel's time by the isolate's own clock. Deployed on Cloudflare that clock only moves on I/O, so
   * this reads 0 there; local workerd (wrangler dev) moves it in whole milliseconds.
   */
  setupMs: number;
}

async function load(): Promise<Loaded> {
  const t0 = performance.now();
  const labels = labelsText.split(/\r?\n/);
  if (labels[labels.length - 1] === '') labels.pop();
  const model = await loadModel(modelBytes, { kernels, labels });
  return { model, setupMs: performance.now() - t0 };
}

// One model per isolate: loaded by the first request that needs it and shared
// by every later request the isolate serves. Loading lazily rather than at
// module scope keeps the script's startup (limited to 1 s) short.
let loading: Promise<Loaded> | undefined;

function getModel(): Promise<Loaded> {
  if (!loading) {
    loading = load();
    // A failed load is not kept: the next request tries again.
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, null, 2) + '\n', {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

const error = (status: number, message: string): Response => json({ error: message }, status);

const USAGE = `lowwater edge worker: image classification (MobileNetV2, ImageNet).

  curl --data-binary @cat.png http://127.0.0.1:8787/            top-5 classes as JSON
  curl --data-binary @cat.png 'http://127.0.0.1:8787/?top=10&raw=1'   top-10 and the output tensor
  curl http://127.0.0.1:8787/model                             the model, its plan and memory
`;

async function classify(request: Request, url: URL): Promise<Response> {
  const top = Number(url.searchParams.get('top') ?? 5);
  if (!(Number.isInteger(top) && top >= 1))
    return error(400, `top must be a whole number ≥ 1, got '${url.searchParams.get('top')}'`);
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) return error(413, `the body is ${length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.length === 0) return error(400, 'the body is empty: POST the bytes of a PNG or JPEG image');
  if (body.length > MAX_BODY_BYTES)
    return error(413, `the body is ${body.length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  const cold = loading === undefined;
  const { model, setupMs } = await getModel();
  try {
    const result = await model.classify(body, { top });
    return json({
      top: result.top,
      inputSha256: result.inputSha256,
      latencyMs: result.latencyMs,
      memory: result.memory,
      path: model.info.pathDescription,
      input: model.info.input,
      // Whether this request loaded (and planned) the model; setupMs is that load, once per isolate.
      coldStart: cold,
      setupMs,
      ...(url.searchParams.get('raw') === '1' ? { output: Array.from(result.output) } : {}),
    });
  } catch (e) {
    // The library's message says what the bytes are (GIF, WebP, a cut PNG ...).
    if (e instanceof ImageError)
      return json({ error: 'the body is not a PNG or JPEG image this worker can decode', detail: e.message }, 400);
    throw e;
  }
}

async function describe(): Promise<Response> {
  const { model, setupMs } = await getModel();
  const { info } = model;
  return json({
    model: info.description,
    path: info.pathDescription,
    input: info.input,
    tasks: info.tasks,
    labels: info.labels?.length ?? 0,
    chunks: info.chunks,
    planningMs: info.planningMs,
    setupMs,
    ...(info.outputQuantization ? { outputQuantization: info.outputQuantization } : {}),
    memory: model.memory(),
  });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === 'POST') return await classify(request, url);
      if (request.method === 'GET' && url.pathname === '/model') return await describe();
      if (request.method === 'GET' || request.method === 'HEAD') return new Response(USAGE);
      return new Response(`${request.method} is not supported: POST an image, or GET / for usage\n`, {
        status: 405,
        headers: { allow: 'GET, HEAD, POST' },
      });
    } catch (e) {
      return error(500, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  },
};
