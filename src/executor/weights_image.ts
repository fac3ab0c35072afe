/**
 * The weights region of the executor's memory, filled by the lowering, and
 * the error an op the kernels cannot run raises.
 *
 * The executor lowers a plan twice: first without a target, which only counts
 * bytes (the memory's final size) and packs nothing, so no weight is read;
 * then with the memory as target, where each blob is packed when added,
 * copied into place and dropped. The weights are never held whole in
 * JavaScript, packed or unpacked.
 */
import type { Op } from '../../planner/ir.js';
import { describeOp } from '../errors.js';
import { alignUp } from './layout.js';

export class UnsupportedOpError extends Error {
  constructor(
    readonly op: Op,
    readonly why: string,
  ) {
    super(`${describeOp(op)}: ${why}`);
    this.name = 'UnsupportedOpError';
  }
}

export type WeightsBlob = Float32Array | Int32Array | Uint8Array | Int8Array;

/** Where the writing pass puts the packed weights. */
export interface WeightsTarget {
  mem: Uint8Array;
  base: number;
  /** Bytes of the region: a blob that would not fit is refused. */
  limit: number;
}

/** Packed weights laid end to end, each blob 16-byte aligned. */
export class WeightsImage {
  bytes = 0;

  constructor(private readonly target?: WeightsTarget) {}

  /**
   * Adds a blob of `byteLength` bytes that `pack` makes (reading the model's
   * constants); returns its offset. `pack` runs only in the writing pass, given
   * the blob's place in the memory (`into`, zero-filled): it either packs there
   * and returns a view of `into`, or returns an array of its own, which is copied
   * there. Packing in place leaves no packed copy for the collector: a large
   * freed buffer would raise glibc's mmap threshold and keep later buffers'
   * pages resident.
   */
  add(byteLength: number, pack: (into: Uint8Array) => WeightsBlob): number {
    const offset = this.bytes;
    this.bytes = alignUp(offset + byteLength);
    const t = this.target;
    if (t) {
      if (offset + byteLength > t.limit)
        throw new Error(`weights: a ${byteLength}-byte blob at ${offset} does not fit the ${t.limit}-byte region`);
      const into = t.mem.subarray(t.base + offset, t.base + offset + byteLength);
      const data = pack(into);
      if (data.byteLength !== byteLength)
        throw new Error(`weights: a blob packed to ${data.byteLength} bytes where ${byteLength} were planned`);
      if (data.buffer !== into.buffer || data.byteOffset !== into.byteOffset)
        into.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    return offset;
  }

  /** Adds a blob computed from the graph alone (parameters, descriptors): no constant is read. */
  put(data: WeightsBlob): number {
    return this.add(data.byteLength, () => data);
  }
}
