/**
 * The example edge worker (examples/edge-worker) bundled as wrangler bundles
 * it, and run in workerd through miniflare: esbuild bundles the JavaScript
 * (package exports resolved with the workerd/worker/browser conditions, so
 * `lowwater/web` is this checkout's dist/ through node_modules/lowwater → ..),
 * while the imports that wrangler.toml's rules match (.wasm, .tflite, .txt)
 * stay outside the bundle as modules of their own type, as wrangler uploads them.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { Miniflare } from 'miniflare';
import { REPO_ROOT } from './fixtures.js';

export const EXAMPLE_DIR = join(REPO_ROOT, 'examples', 'edge-worker');

type ModuleType = 'CompiledWasm' | 'Data' | 'Text';

export interface WorkerConfig {
  main: string;
  compatibilityDate: string;
  /** Module type by file extension (".wasm" → CompiledWasm), from the `rules` of wrangler.toml. */
  rules: Map<string, ModuleType>;
}

/** The parts of the example's wrangler.toml that bundling and running need. */
export function readWorkerConfig(dir = EXAMPLE_DIR): WorkerConfig {
  const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8');
  const field = (key: string): string => {
    const m = new RegExp(`^${key}\\s*=\\s*"([^"]+)"`, 'm').exec(toml);
    if (!m) throw new Error(`wrangler.toml has no ${key}`);
    return m[1]!;
  };
  const rules = new Map<string, ModuleType>();
  for (const m of toml.matchAll(/\{\s*type\s*=\s*"(\w+)"\s*,\s*globs\s*=\s*\[\s*"\*\*\/\*(\.\w+)"\s*\][^}]*\}/g))
    rules.set(m[2]!, m[1] as ModuleType);
  return { main: field('main'), compatibilityDate: field('compatibility_date'), rules };
}

export interface BundledModule {
  /** Name the bundle imports it by ("./lowwater.wasm"), and its module type. */
  name: string;
  type: ModuleType;
  /** The file it was read from. */
  file: string;
  contents: Uint8Array;
}

export interface Bundle {
  config: WorkerConfig;
  /** The worker's JavaScript, one ES module. */
  js: string;
  modules: BundledModule[];
}

/**
 * Bundles the example. `files` replaces files the worker imports (by the specifier it
 * uses, e.g. './models/x.tflite') with other paths: the model and labels a user would
 * put beside it come from the fixtures here.
 */
export async function bundleEdgeWorker(
  options: { files?: Record<string, string>; minify?: boolean; entry?: string } = {},
): Promise<Bundle> {
  const config = readWorkerConfig();
  const modules: BundledModule[] = [];
  const extensions = [...config.rules.keys()].map((e) => e.slice(1)).join('|');
  const externalModules: Plugin = {
    name: 'wrangler-module-rules',
    setup(b) {
      b.onResolve({ filter: new RegExp(`\\.(${extensions})$`) }, async (args) => {
        if (args.pluginData === 'resolving') return undefined;
        let file = options.files?.[args.path];
        if (!file) {
          const r = await b.resolve(args.path, {
            kind: args.kind,
            resolveDir: args.resolveDir,
            pluginData: 'resolving',
          });
          if (r.errors.length) return { errors: r.errors };
          file = r.path;
        }
        const ext = file.slice(file.lastIndexOf('.'));
        const name = `./${basename(file)}`;
        if (!modules.some((m) => m.name === name))
          modules.push({ name, type: config.rules.get(ext)!, file, contents: new Uint8Array(readFileSync(file)) });
        return { path: name, external: true };
      });
    },
  };
  const out = await build({
    entryPoints: [options.entry ?? join(EXAMPLE_DIR, config.main)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    minify: options.minify ?? false,
    logLevel: 'silent',
    plugins: [externalModules],
  });
  return { config, js: out.outputFiles[0]!.text, modules };
}

/**
 * Starts the bundle in workerd on 127.0.0.1 (a free port); resolves when it serves. Dispose it when done.
 * `inspectorPort` opens workerd's DevTools protocol there (for heap figures).
 */
export async function startEdgeWorker(
  bundle: Bundle,
  options: { inspectorPort?: number } = {},
): Promise<{ mf: Miniflare; url: URL }> {
  const { Miniflare } = await import('miniflare');
  const root = dirname(join(EXAMPLE_DIR, bundle.config.main));
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    ...(options.inspectorPort !== undefined ? { inspectorPort: options.inspectorPort } : {}),
    compatibilityDate: bundle.config.compatibilityDate,
    modulesRoot: root,
    modules: [
      { type: 'ESModule', path: join(root, 'worker.js'), contents: bundle.js },
      ...bundle.modules.map((m) => ({ type: m.type, path: join(root, m.name), contents: m.contents })),
    ],
  });
  try {
    return { mf, url: await mf.ready };
  } catch (e) {
    await mf.dispose();
    throw e;
  }
}

/**
 * Why this checkout's dist/ (what `lowwater/web` resolves to) cannot stand for src/: not built, or
 * older than a source file (then a test would run yesterday's code); false when it is current.
 */
export function distProblem(): false | string {
  const web = join(REPO_ROOT, 'dist', 'web.js');
  if (!existsSync(web)) return 'dist/ is not built: run `npm run build` (npm ci does it)';
  const built = statSync(web).mtimeMs;
  for (const dir of ['src', 'planner']) {
    for (const f of readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.ts') && statSync(join(REPO_ROOT, dir, f)).mtimeMs > built)
        return `dist/ is older than ${dir}/${f}: run \`npm run build:bundle\``;
    }
  }
  return false;
}
