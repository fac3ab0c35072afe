/**
 * A small, bounds-checked FlexBuffers reader for what TFLite custom ops store
 * in `custom_options`: a root map whose values are scalars (null, int, uint,
 * float, bool, inline or indirect) or strings. Anything else (nested vectors,
 * maps) is read as `undefined` and reported by the caller if it needs it.
 *
 * Layout (FlexBuffers spec, flatbuffers/flexbuffers.h): the buffer ends with
 * the root value (root byte width bytes), its packed type (type << 2 | width
 * code) and the root byte width. A map at position p with element width W has
 * its size at p − W, the keys vector offset at p − 3W (relative, pointing
 * back) with the keys' byte width at p − 2W; its values at p + i·W and one
 * packed-type byte per value after them. An offset field at q points to
 * q − value.
 */

export class FlexBufferError extends Error {
  constructor(message: string) {
    super(`flexbuffer: ${message}`);
    this.name = 'FlexBufferError';
  }
}

export type FlexScalar = number | boolean | string | null | undefined;

// FlexBuffers value types used here.
const T = {
  NULL: 0,
  INT: 1,
  UINT: 2,
  FLOAT: 3,
  KEY: 4,
  STRING: 5,
  INDIRECT_INT: 6,
  INDIRECT_UINT: 7,
  INDIRECT_FLOAT: 8,
  MAP: 9,
  BOOL: 26,
} as const;

class Reader {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(pos: number, width: number, what: string): void {
    if (!(Number.isInteger(pos) && pos >= 0 && pos + width <= this.bytes.length)) {
      throw new FlexBufferError(
        `${what} at byte ${pos} (${width} bytes) is outside the ${this.bytes.length}-byte buffer`,
      );
    }
  }

  uint(pos: number, width: number, what: string): number {
    this.check(pos, width, what);
    switch (width) {
      case 1:
        return this.view.getUint8(pos);
      case 2:
        return this.view.getUint16(pos, true);
      case 4:
        return this.view.getUint32(pos, true);
      case 8: {
        const v = this.view.getBigUint64(pos, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FlexBufferError(`${what} at byte ${pos} is ${v}, too large`);
        return Number(v);
      }
    }
    throw new FlexBufferError(`${what}: byte width ${width} is not 1, 2, 4 or 8`);
  }

  int(pos: number, width: number, what: string): number {
    this.check(pos, width, what);
    switch (width) {
      case 1:
        return this.view.getInt8(pos);
      case 2:
        return this.view.getInt16(pos, true);
      case 4:
        return this.view.getInt32(pos, true);
      case 8: {
        const v = this.view.getBigInt64(pos, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          throw new FlexBufferError(`${what} at byte ${pos} is ${v}, out of range`);
        return Number(v);
      }
    }
    throw new FlexBufferError(`${what}: byte width ${width} is not 1, 2, 4 or 8`);
  }

  float(pos: number, width: number, what: string): number {
    this.check(pos, width, what);
    if (width === 4) return this.view.getFloat32(pos, true);
    if (width === 8) return this.view.getFloat64(pos, true);
    throw new FlexBufferError(`${what}: float of byte width ${width}`);
  }

  /** Target of the offset stored at `pos` (width bytes): pos − offset. */
  indirect(pos: number, width: number, what: string): number {
    const target = pos - this.uint(pos, width, what);
    this.check(target, 0, `${what} target`);
    return target;
  }

  /** A NUL-terminated key starting at `pos`. */
  key(pos: number, what: string): string {
    let end = pos;
    while (true) {
      this.check(end, 1, what);
      if (this.bytes[end] === 0) break;
      end++;
    }
    return new TextDecoder().decode(this.bytes.subarray(pos, end));
  }

  /** A scalar or string stored at `pos` in a slot of `width` bytes with packed type `packed`. */
  value(pos: number, width: number, packed: number, what: string): FlexScalar {
    const type = packed >> 2;
    const own = 1 << (packed & 3); // byte width of indirect data
    switch (type) {
      case T.NULL:
        return null;
      case T.INT:
        return this.int(pos, width, what);
      case T.UINT:
        return this.uint(pos, width, what);
      case T.FLOAT:
        return this.float(pos, width, what);
      case T.BOOL:
        return this.uint(pos, width, what) !== 0;
      case T.INDIRECT_INT:
        return this.int(this.indirect(pos, width, what), own, what);
      case T.INDIRECT_UINT:
        return this.uint(this.indirect(pos, width, what), own, what);
      case T.INDIRECT_FLOAT:
        return this.float(this.indirect(pos, width, what), own, what);
      case T.KEY:
        return this.key(this.indirect(pos, width, what), what);
      case T.STRING: {
        const at = this.indirect(pos, width, what);
        const n = this.uint(at - own, own, `${what} length`);
        this.check(at, n, what);
        return new TextDecoder().decode(this.bytes.subarray(at, at + n));
      }
      default:
        return undefined; // vectors, maps, blobs: not needed for op options
    }
  }
}

/** Reads a FlexBuffer whose root is a map into {key: scalar}. */
export function readFlexMap(bytes: Uint8Array): Record<string, FlexScalar> {
  const r = new Reader(bytes);
  if (bytes.length < 3) throw new FlexBufferError(`buffer of ${bytes.length} bytes is too short`);
  const rootWidth = bytes[bytes.length - 1]!;
  const rootPacked = bytes[bytes.length - 2]!;
  const rootPos = bytes.length - 2 - rootWidth;
  r.check(rootPos, rootWidth, 'root');
  if (rootPacked >> 2 !== T.MAP)
    throw new FlexBufferError(`root has type ${rootPacked >> 2}, expected a map (${T.MAP})`);
  const map = r.indirect(rootPos, rootWidth, 'root map offset');
  const w = 1 << (rootPacked & 3);
  const size = r.uint(map - w, w, 'map size');
  const keysField = map - 3 * w;
  const keys = r.indirect(keysField, w, 'map keys offset');
  const kw = r.uint(map - 2 * w, w, 'map keys byte width');
  const keyCount = r.uint(keys - kw, kw, 'map keys size');
  if (keyCount !== size) throw new FlexBufferError(`map has ${size} values but ${keyCount} keys`);
  r.check(map, size * w + size, 'map values and types');
  const out: Record<string, FlexScalar> = {};
  for (let i = 0; i < size; i++) {
    const name = r.key(r.indirect(keys + i * kw, kw, `key ${i}`), `key ${i}`);
    const packed = bytes[map + size * w + i]!;
    out[name] = r.value(map + i * w, w, packed, `value of '${name}'`);
  }
  return out;
}
