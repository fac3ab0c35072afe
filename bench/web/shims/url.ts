/** node:url for the browser bundle: the module's URL (http: in a page, file: in Node) as a path. */
export function fileURLToPath(url: string | URL): string {
  return new URL(url).pathname;
}
