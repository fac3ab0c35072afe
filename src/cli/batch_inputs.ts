/**
 * The images a batch command is given: files as named, and folders expanded
 * to the image files inside them.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Extensions a folder's files are taken by (any case): what the decoder reads. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Image files under `dir`, recursively, sorted by path: files whose extension is an image's, through
 * symbolic links to files; names starting with '.' and symbolic links to folders are passed over.
 */
async function imagesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) {
        if (
          e.isFile() ||
          (e.isSymbolicLink() &&
            (await stat(path).then(
              (s) => s.isFile(),
              () => false,
            )))
        )
          found.push(path);
      }
    }
  };
  await walk(dir);
  return found.sort(byCodeUnits);
}

/** Whether any argument names a folder. */
export async function anyFolder(args: string[]): Promise<boolean> {
  for (const a of args) if (await isFolder(a)) return true;
  return false;
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * The arguments with each folder replaced by its images, in argument order. A file is kept whatever its
 * name (a missing or unreadable one fails on its own line later). `empty` lists folders with no image.
 */
export async function expandInputs(args: string[]): Promise<{ images: string[]; empty: string[] }> {
  const images: string[] = [];
  const empty: string[] = [];
  for (const a of args) {
    if (!(await isFolder(a))) {
      images.push(a);
      continue;
    }
    const inside = await imagesUnder(a);
    if (inside.length === 0) empty.push(a);
    images.push(...inside);
  }
  return { images, empty };
}
