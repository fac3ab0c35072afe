/**
 * Where a model's bytes come from. Importing reads the model's tables (the
 * graph) through `tables`; the weights are read later, range by range,
 * through `read`. A source in memory serves both from one array; a file
 * (file_source.ts) reads only what is asked for.
 */
export interface ByteSource {
  /** Names the model in errors (a path, a URL, "model bytes"). */
  readonly name: string;
  readonly size: number;
  /**
   * An array the size of the model in which every range passed to `ensure`
   * holds the model's bytes (a file source leaves the rest unread and zero).
   */
  readonly tables: { bytes: Uint8Array; ensure(offset: number, length: number): void };
  /** Bytes [offset, offset + length): a view of the model's bytes (read into `tables.bytes` first for a file). */
  read(offset: number, length: number): Uint8Array;
  /** Drops the bytes or closes the file; later reads throw. */
  release(): void;
  /** Bytes of ArrayBuffers the source holds (the whole model when in memory, 0 for a file). */
  retainedBytes(): number;
}

/** A model held in memory (bytes given, a fetched Response). */
export class MemorySource implements ByteSource {
  private bytes: Uint8Array | null;
  readonly size: number;
  readonly tables: ByteSource['tables'];

  constructor(
    bytes: Uint8Array,
    readonly name: string,
  ) {
    this.bytes = bytes;
    this.size = bytes.length;
    this.tables = { bytes, ensure: () => {} };
  }

  read(offset: number, length: number): Uint8Array {
    if (!this.bytes) throw new Error(`${this.name}: the model's bytes were released after loading`);
    return this.bytes.subarray(offset, offset + length);
  }

  release(): void {
    this.bytes = null;
    (this as { tables: ByteSource['tables'] | null }).tables = null;
  }

  retainedBytes(): number {
    return this.bytes ? this.bytes.byteLength : 0;
  }
}
