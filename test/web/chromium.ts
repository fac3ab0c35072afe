/**
 * Headless Chromium for tests and benchmarks: a static HTTP server on 127.0.0.1 that
 * serves a directory (plus in-memory files) cross-origin isolated, and Debian's
 * Chromium driven by playwright-core, with functions evaluated in a page or in a
 * dedicated Web Worker of that page.
 *
 *   const site = await servePage(dir, { files: { '/input.bin': bytes } });
 *   try {
 *     await withChromium(async (browser) => {
 *       const page = await browser.open(site.url('/'));
 *       const n = await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, '/input.bin');
 *       const w = await page.worker();
 *       await w.evaluate(() => crossOriginIsolated, undefined);
 *       t.same(page.errors, []);
 *     });
 *   } finally {
 *     await site.close();
 *   }
 *
 * Chromium is never downloaded: the executable is LOWWATER_CHROMIUM or a system one
 * (`apt-get install -y chromium`). Under CI (CI set and not 'false' or '0') a missing
 * Chromium fails the test; elsewhere `chromiumSkip()` gives tap a skip message.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Worker } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const HOW_TO_INSTALL_CHROMIUM =
  'install it with `apt-get update && apt-get install -y chromium` (Debian), or set LOWWATER_CHROMIUM to a Chromium executable';

/** The Chromium executable to drive (LOWWATER_CHROMIUM when set), or undefined when it is not there. */
export function findChromium(): string | undefined {
  const own = process.env.LOWWATER_CHROMIUM;
  if (own) return existsSync(own) ? own : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Whether this process runs under CI, where a missing browser is a failure, not a skip. */
export function underCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * tap `skip` option for a test that needs Chromium: false when it is installed, and
 * false under CI too (the test then runs and fails at launch, naming the install step).
 */
export function chromiumSkip(): false | string {
  if (findChromium() || underCI()) return false;
  return `Chromium not found: ${HOW_TO_INSTALL_CHROMIUM}`;
}

// ---------------------------------------------------------------------------------------
// Static server

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The page served at `/` when the directory has no index.html: an empty document. */
const BLANK_PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><title>lowwater</title></head><body></body></html>\n';

/** The script `page.worker()` starts: it only has to stay alive to be evaluated in. */
export const WORKER_PATH = '/__lowwater/worker.js';
const WORKER_SCRIPT = '// A dedicated worker the harness evaluates functions in.\n';

export interface ServeOptions {
  /** Files served from memory, by absolute URL path ('/model.tflite'); they shadow the directory. */
  files?: Record<string, Uint8Array | string>;
  /**
   * Send COOP same-origin + COEP require-corp (default true): the page is cross-origin
   * isolated, so performance.now() has its fine resolution and SharedArrayBuffer exists.
   */
  isolated?: boolean;
}

export interface ServedPage {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** Absolute URL of a path on this server. */
  url(path?: string): string;
  /** Requests answered so far, as 'STATUS PATH' (for assertions on what the page fetched). */
  readonly log: readonly string[];
  close(): Promise<void>;
}

/** Serves `dir` (and `files`) on 127.0.0.1 at a random port until close(). */
export async function servePage(dir: string, opts: ServeOptions = {}): Promise<ServedPage> {
  const root = resolve(dir);
  const files = new Map<string, Uint8Array | string>(Object.entries(opts.files ?? {}));
  const isolated = opts.isolated ?? true;
  const log: string[] = [];

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Uint8Array | string) => {
    const headers: Record<string, string | number> = {
      'Content-Type': type,
      'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      'Cache-Control': 'no-store',
    };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    log.push(`${status} ${req.url ?? ''}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'text/plain', 'GET only\n');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(req, res, 400, 'text/plain', 'bad path\n');
    }
    const own = files.get(path);
    if (own !== undefined) return send(req, res, 200, mimeType(path), own);
    if (path === WORKER_PATH) return send(req, res, 200, mimeType(path), WORKER_SCRIPT);
    const file = resolve(root, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (file !== root && !file.startsWith(root + sep)) return send(req, res, 403, 'text/plain', 'outside the root\n');
    try {
      if ((await stat(file)).isFile()) return send(req, res, 200, mimeType(file), await readFile(file));
    } catch {
      /* not there: 404 below, or the blank page for '/' */
    }
    if (path === '/' || path === '/index.html') return send(req, res, 200, MIME['.html']!, BLANK_PAGE);
    // Chromium asks for an icon with every page: an empty answer keeps a 404 out of the console errors.
    if (path === '/favicon.ico') return send(req, res, 204, 'image/x-icon', '');
    return send(req, res, 404, 'text/plain', `not found: ${path}\n`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(req, res, 500, 'text/plain', `${String(e)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    origin,
    url: (p = '/') => new URL(p, origin).href,
    log,
    close: () =>
      (closed ??= new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      })),
  };
}

// ---------------------------------------------------------------------------------------
// Browser

export interface LaunchOptions {
  /** V8 flags for the renderer, passed as one --js-flags (e.g. ['--no-liftoff']). */
  jsFlags?: string[];
  /** More Chromium switches. */
  args?: string[];
  /** Executable; default findChromium(). */
  executablePath?: string;
}

/**
 * Switches for a headless Chromium on a machine whose network is closed: without the
 * background-networking ones Chromium keeps opening connections that are refused.
 */
export function chromiumArgs(opts: LaunchOptions = {}): string[] {
  return [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(opts.jsFlags?.length ? [`--js-flags=${opts.jsFlags.join(' ')}`] : []),
    ...(opts.args ?? []),
  ];
}

/** Something functions can be evaluated in: a page or one of its dedicated workers. */
export interface Realm {
  /** Runs `fn(arg)` in the realm (fn is sent as source: it cannot close over test variables). */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}

export interface WebPage extends Realm {
  readonly page: Page;
  /** Console errors, uncaught exceptions and failed requests, of the page and its workers. */
  readonly errors: string[];
  /** Starts a dedicated Web Worker (module type) from `scriptUrl` (default: an empty one) and returns it. */
  worker(scriptUrl?: string): Promise<Realm>;
}

export interface ChromiumSession {
  readonly browser: Browser;
  readonly context: BrowserContext;
  /** Chromium's version, as the browser reports it. */
  readonly version: string;
  /** Opens a new page at `url` (after its load event). */
  open(url: string): Promise<WebPage>;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh profile (playwright gives every launch its own temporary
 * --user-data-dir and removes it on close). Throws, naming the install step, when no
 * executable is found.
 */
export async function launchChromium(opts: LaunchOptions = {}): Promise<ChromiumSession> {
  const executablePath = opts.executablePath ?? findChromium();
  if (!executablePath || !existsSync(executablePath)) {
    const tried = opts.executablePath ?? process.env.LOWWATER_CHROMIUM ?? CANDIDATES.join(', ');
    throw new Error(`Chromium not found (${tried}): ${HOW_TO_INSTALL_CHROMIUM}`);
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs(opts) });
  let context: BrowserContext;
  try {
    context = await browser.newContext();
  } catch (e) {
    await browser.close();
    throw e;
  }
  let closed: Promise<void> | undefined;
  return {
    browser,
    context,
    version: browser.version(),
    open: (url) => openPage(context, url),
    close: () => (closed ??= closeBrowser(browser)),
  };
}

/**
 * Closes the browser, waiting at most 10 s: a Chromium that does not exit by then is
 * left to playwright's exit handler, which kills every browser it launched when this
 * process exits (also on SIGINT, SIGTERM and SIGHUP, e.g. a tap timeout).
 */
async function closeBrowser(browser: Browser): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((ok) => {
    timer = setTimeout(() => {
      console.error('chromium harness: Chromium did not close within 10 s');
      ok();
    }, 10_000);
  });
  try {
    await Promise.race([browser.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Evaluates a function's source in the realm. tsx (esbuild's keepNames) rewrites named
 * functions in test files as `__name(fn, "name")`, a helper that exists only in Node: the
 * realm gets an identity `__name` first, so such functions run there unchanged.
 */
const runSource = ([src, arg]: [string, unknown]): unknown => {
  const g = globalThis as { __name?: (f: unknown) => unknown };
  g.__name ??= (f) => f;
  return (0, eval)(`(${src})`)(arg);
};

async function openPage(context: BrowserContext, url: string): Promise<WebPage> {
  const page = await context.newPage();
  const errors: string[] = [];

  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || !response.ok())
    throw new Error(`Chromium could not load ${url}: ${response?.status() ?? 'no response'}`);

  // Page and Worker evaluate alike; their overloads differ only in options this harness does not use.
  const realm = (target: Page | Worker): Realm => ({
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg: A) =>
      (target as Worker).evaluate(runSource as never, [fn.toString(), arg]) as Promise<R>,
  });
  return {
    page,
    errors,
    evaluate: realm(page).evaluate,
    async worker(scriptUrl = WORKER_PATH) {
      const started = page.waitForEvent('worker', { predicate: (w) => w.url() === new URL(scriptUrl, url).href });
      await page.evaluate((src) => {
        const g = globalThis as unknown as {
          __lowwaterWorkers?: unknown[];
          Worker: new (u: string, o: object) => unknown;
        };
        // Held by the page so the worker is not collected while it is evaluated in.
        (g.__lowwaterWorkers ??= []).push(new g.Worker(src, { type: 'module' }));
      }, scriptUrl);
      return realm(await started);
    },
  };
}

/**
 * Runs `fn` with a launched Chromium and closes it afterwards, also when `fn` throws
 * (the test then fails with fn's error, and no browser process is left).
 */
export async function withChromium<T>(
  fn: (browser: ChromiumSession) => Promise<T>,
  opts: LaunchOptions = {},
): Promise<T> {
  const session = await launchChromium(opts);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
