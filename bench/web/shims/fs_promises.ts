/**
 * node:fs/promises for the browser bundle (bench/web/bundle.ts): readFile answers from
 * files the page provided (provideFile), matched by the end of the path, since the
 * kernel loader asks for <package root>/build/lowwater.wasm.
 */
const files = new Map<string, Uint8Array>();

/** Makes `bytes` the content of every path ending in `/${name}`. */
export function provideFile(name: string, bytes: Uint8Array): void {
  files.set(name, bytes);
}

export async function readFile(path: string): Promise<Uint8Array> {
  for (const [name, bytes] of files) if (path === name || path.endsWith(`/${name}`)) return bytes;
  throw Object.assign(new Error(`ENOENT: ${path} was not provided to the bundle`), { code: 'ENOENT' });
}
