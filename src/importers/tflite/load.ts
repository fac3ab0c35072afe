/** Reading a .tflite file from disk. */
import { readFile } from 'node:fs/promises';
import type { LoadedModel } from '../../model.js';
import { TfliteFormatError } from './errors.js';
import { hasTfliteIdentifier } from './file.js';
import { importTflite } from './import.js';
import { FILE_IDENTIFIER } from './schema.js';

/**
 * Reads and imports a .tflite file. Errors name the file: missing or
 * unreadable, not a TFLite model (no 'TFL3' identifier), malformed, or using
 * unsupported ops.
 */
export async function loadTfliteFile(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new Error(`cannot read TFLite model '${path}': ${why}`);
  }
  if (!hasTfliteIdentifier(bytes)) {
    throw new TfliteFormatError(
      `not a TFLite model (bytes 4..7 are not the '${FILE_IDENTIFIER}' file identifier)`,
      4,
      path,
    );
  }
  return importTflite(bytes, path);
}
