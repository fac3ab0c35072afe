/**
 * Running Deno from the npm package `deno` (a devDependency): the binary is in
 * the platform package npm installed from the registry (@deno/linux-x64-glibc
 * and so on, optional dependencies filtered by os/cpu/libc), and is spawned
 * directly rather than through the package's bin.cjs wrapper, which would run
 * Deno as a grandchild that a timeout could not kill.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Path of the Deno executable the npm package installed, or undefined. */
export function denoBinary(): string | undefined {
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('deno/package.json'));
  } catch {
    return undefined;
  }
  // The package's postinstall hard-links the binary next to package.json; npm run with
  // --ignore-scripts leaves it only in the platform package.
  if (existsSync(join(pkgDir, exe))) return join(pkgDir, exe);
  const libc = process.platform === 'linux' ? '-glibc' : '';
  try {
    const platformPkg = createRequire(join(pkgDir, 'package.json')).resolve(
      `@deno/${process.platform}-${process.arch}${libc}/package.json`,
    );
    const path = join(dirname(platformPkg), exe);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Flags that keep `deno run` off the network and out of the working tree: node_modules
 * as npm laid it out (package.json resolution, no npm registry), no remote modules,
 * no lockfile written, no permission prompt.
 */
export const DENO_RUN_FLAGS = ['--node-modules-dir=manual', '--no-remote', '--cached-only', '--no-lock', '--no-prompt'];

/** Environment of a Deno child: no update check (a network request), no colours in errors, its cache in denoDir. */
export function denoEnv(denoDir: string): NodeJS.ProcessEnv {
  return { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
}

export interface DenoResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs deno with `args`; killed (SIGKILL) after timeoutMs. Resolves with its exit, whatever it is. */
export function runDeno(
  deno: string,
  args: string[],
  opts: { cwd: string; denoDir: string; timeoutMs: number },
): { child: ChildProcess; done: Promise<DenoResult> } {
  let child!: ChildProcess;
  const done = new Promise<DenoResult>((resolve) => {
    child = execFile(
      deno,
      args,
      {
        cwd: opts.cwd,
        env: denoEnv(opts.denoDir),
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 << 20,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr: e && typeof e.code !== 'number' && !e.signal ? `${stderr}${e.message}` : stderr,
        });
      },
    );
  });
  return { child, done };
}
