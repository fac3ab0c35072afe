/** Reading a .tflite file from disk. */
import { stat } from 'node:fs/promises';
import { FileSource } from '../file_source.js';
import type { LoadedModel } from '../../model.js';
import { TfliteFormatError } from './errors.js';
import { hasTfliteIdentifier } from './file.js';
import { importTflite } from './import.js';
import { FILE_IDENTIFIER } from './schema.js';

/**
 * Imports a .tflite file through a file handle: the tables now, each weight
 * when the executor packs it (the handle closes when the model's constants
 * are released). Errors name the file: missing or unreadable, not a TFLite
 * model (no 'TFL3' identifier), malformed, or using unsupported ops.
 */
export async function loadTfliteFile(path: string): Promise<LoadedModel> {
  let src: FileSource;
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    src = new FileSource(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new Error(`cannot read TFLite model '${path}': ${why}`);
  }
  try {
    src.tables.ensure(0, 8);
    if (!hasTfliteIdentifier(src.tables.bytes)) {
      throw new TfliteFormatError(
        `not a TFLite model (bytes 4..7 are not the '${FILE_IDENTIFIER}' file identifier)`,
        4,
        path,
      );
    }
    return importTflite(src, path);
  } catch (e) {
    src.release();
    throw e;
  }
}
