/**
 * node:fs for the browser bundle: the kernel loader finds its package root by looking
 * upward for a package.json named lowwater; in the bundle that is the bundle's own folder.
 */
export function existsSync(path: string): boolean {
  return path.endsWith('/package.json');
}

export function readFileSync(path: string): string {
  if (path.endsWith('/package.json')) return '{"name":"lowwater"}';
  throw Object.assign(new Error(`ENOENT: ${path} (the browser bundle has no file system)`), { code: 'ENOENT' });
}
