/** TFLite importer: public API. */
export { TfliteFormatError, TfliteUnsupportedError } from './errors.js';
export { importTflite, MAX_OPERATORS } from './import.js';
export { loadTfliteFile } from './load.js';
export { hasTfliteIdentifier, readTfliteFile } from './file.js';
