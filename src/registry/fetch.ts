/**
 * Finds registry files on disk (LOWWATER_MODELS, then the user cache) or
 * downloads them into the cache, always checking their sha256. A download is
 * written to a temporary name and renamed only once its hash is right, so a
 * cache never holds half a file.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RemoteFile } from '../../models/registry.js';
import { ModelNotAvailableError } from '../model.js';

export { ModelNotAvailableError };

export interface FetchOptions {
  /** Folder searched first (default: $LOWWATER_MODELS). */
  modelsDir?: string;
  /** Download cache (default: $LOWWATER_CACHE, else $XDG_CACHE_HOME/lowwater, else ~/.cache/lowwater). */
  cacheDir?: string;
  /** Never download. */
  offline?: boolean;
  fetchImpl?: typeof fetch;
  /** Progress and notices (stderr in the CLI). */
  log?: (line: string) => void;
}

export function defaultCacheDir(): string {
  if (process.env.LOWWATER_CACHE) return process.env.LOWWATER_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'lowwater');
}

export async function fileSha256(path: string): Promise<string> {
  // node:crypto is loaded here, where a file is checked, not by importing lowwater (it costs ~1.6 MB of RSS).
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Local path of `f`, downloading it into the cache when it is nowhere on disk. */
export async function resolveRemoteFile(f: RemoteFile, opts: FetchOptions = {}): Promise<string> {
  const modelsDir = opts.modelsDir ?? process.env.LOWWATER_MODELS;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const places = [...(modelsDir ? [join(modelsDir, f.file)] : []), join(cacheDir, f.file)];
  for (const p of places) {
    if (!existsSync(p)) continue;
    const got = await fileSha256(p);
    if (got !== f.sha256)
      throw new ModelNotAvailableError(
        `${p} has sha256 ${got}, but ${f.file} must have ${f.sha256}: it is a different or damaged file; delete or replace it`,
      );
    return p;
  }
  const where = `Put ${f.file} (sha256 ${f.sha256}, from ${f.url}) in ${modelsDir ? `${modelsDir} ($LOWWATER_MODELS) or ` : 'the folder named by $LOWWATER_MODELS or '}${cacheDir}`;
  if (opts.offline)
    throw new ModelNotAvailableError(`${f.file} is not on this machine and downloads are off. ${where}.`);
  const fetchImpl = opts.fetchImpl ?? fetch;
  const log = opts.log ?? (() => {});
  let bytes: Uint8Array;
  try {
    log(`downloading ${f.url}`);
    const res = await fetchImpl(f.url, { redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length') ?? 0);
    const parts: Uint8Array[] = [];
    let got = 0;
    let shown = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      parts.push(chunk);
      got += chunk.byteLength;
      if (total && got - shown > total / 10) {
        shown = got;
        log(`  ${f.file}: ${Math.round((100 * got) / total)}% of ${(total / 1e6).toFixed(1)} MB`);
      }
    }
    bytes = new Uint8Array(got);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.byteLength;
    }
  } catch (e) {
    throw new ModelNotAvailableError(`could not download ${f.file} from ${f.url} (${(e as Error).message}). ${where}.`);
  }
  const { createHash } = await import('node:crypto');
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== f.sha256)
    throw new ModelNotAvailableError(
      `downloaded ${f.url} but its sha256 is ${sha}, not ${f.sha256}; nothing was saved. ${where}.`,
    );
  await mkdir(cacheDir, { recursive: true });
  const dest = join(cacheDir, f.file);
  // Unique per thread too: worker threads of one process may download the same file at once.
  const { threadId } = await import('node:worker_threads');
  const tmp = `${dest}.partial-${process.pid}-${threadId}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  log(`saved ${dest}`);
  return dest;
}
