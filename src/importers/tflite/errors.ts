/**
 * Errors of the TFLite importer. Every problem with a file is one of these two:
 * - TfliteFormatError: the bytes are not a well-formed, self-consistent TFLite
 *   model (names the byte offset and what was being read);
 * - TfliteUnsupportedError: a well-formed model that uses something lowwater
 *   does not run (names the op, its builtin number and the operator index).
 */

export class TfliteFormatError extends Error {
  /** Byte offset in the file where the problem was found (-1 when it is not tied to one place). */
  readonly offset: number;
  constructor(message: string, offset: number, source?: string) {
    const where = offset >= 0 ? ` at byte ${offset}` : '';
    super(`${source ? `${source}: ` : ''}malformed TFLite file${where}: ${message}`);
    this.name = 'TfliteFormatError';
    this.offset = offset;
  }
}

export class TfliteUnsupportedError extends Error {
  constructor(message: string, source?: string) {
    super(`${source ? `${source}: ` : ''}${message}`);
    this.name = 'TfliteUnsupportedError';
  }
}
