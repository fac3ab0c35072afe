/**
 * A model file read through a file handle (Node only): the tables are read
 * range by range as the importer reaches them, the weights one constant at a
 * time after planning into the same sparse array, and nothing is kept after
 * loading.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from './byte_source.js';

export class FileSource implements ByteSource {
  private fd: number | null;
  readonly size: number;
  readonly tables: ByteSource['tables'];
  /** Sorted, disjoint [start, end) ranges of `tables.bytes` already read from the file. */
  private readonly loaded: [number, number][] = [];

  constructor(readonly name: string) {
    this.fd = openSync(name, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      this.release();
      throw e;
    }
    // A zero-filled array the size of the file, on pages mapped by the engine outside the C heap: the pages never
    // written cost no memory, and all of them go back to the system when the array is collected. (A malloc'd
    // array this large would be mmap'd too, but freeing it raises glibc's mmap threshold to its size, after which
    // every smaller buffer of the load stays in the heap's resident pages.)
    const bytes = new Uint8Array(
      new WebAssembly.Memory({ initial: Math.ceil(this.size / 65536) }).buffer,
      0,
      this.size,
    );
    this.tables = { bytes, ensure: (offset, length) => this.ensure(bytes, offset, length) };
  }

  private readInto(target: Uint8Array, at: number, length: number, position: number): void {
    if (this.fd === null) throw new Error(`${this.name}: the file was closed after loading`);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, target, at + done, length - done, position + done);
      if (n === 0)
        throw new Error(`${this.name}: the file ended at byte ${position + done} (it changed while loading?)`);
      done += n;
    }
  }

  /** Index of the first loaded range whose end is past `at` (binary search). */
  private firstEndingAfter(at: number): number {
    let lo = 0,
      hi = this.loaded.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.loaded[mid]![1] <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private ensure(bytes: Uint8Array, offset: number, length: number): void {
    const end = Math.min(offset + length, this.size);
    let at = Math.max(0, offset);
    if (at >= end) return;
    const first = this.firstEndingAfter(at);
    const hit = this.loaded[first];
    if (hit && hit[0] <= at && hit[1] >= end) return;
    for (let i = first; i < this.loaded.length; i++) {
      const [s, e] = this.loaded[i]!;
      if (e <= at) continue;
      if (s >= end) break;
      if (s > at) this.readInto(bytes, at, s - at, at);
      at = Math.max(at, e);
      if (at >= end) break;
    }
    if (at < end) this.readInto(bytes, at, end - at, at);
    this.mark(Math.max(0, offset), end);
  }

  /** Adds [start, end) to the loaded ranges, merging neighbours. */
  private mark(start: number, end: number): void {
    if (end <= start) return;
    const r = this.loaded;
    let i = this.firstEndingAfter(start - 1);
    let s = start,
      e = end,
      j = i;
    while (j < r.length && r[j]![0] <= e) {
      s = Math.min(s, r[j]![0]);
      e = Math.max(e, r[j]![1]);
      j++;
    }
    r.splice(i, j - i, [s, e]);
  }

  /**
   * The constant's bytes, read into their place in the file-sized array (like a source in memory, a view):
   * nothing is allocated per constant, and every page read goes back to the system with the array.
   */
  read(offset: number, length: number): Uint8Array {
    const tables = this.tables;
    if (!tables) throw new Error(`${this.name}: the file was closed after loading`);
    tables.ensure(offset, length);
    return tables.bytes.subarray(offset, offset + length);
  }

  release(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    (this as { tables: ByteSource['tables'] | null }).tables = null;
  }

  retainedBytes(): number {
    return 0;
  }
}
