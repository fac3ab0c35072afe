/**
 * Bounds-checked access to FlatBuffers tables on top of the `flatbuffers`
 * runtime's ByteBuffer (which itself checks nothing).
 *
 * Binary layout (FlatBuffers "internals" doc): a table starts with an int32
 * soffset to its vtable (vtable = table − soffset); the vtable is
 * [u16 vtable size, u16 table size, u16 field offsets…]; field i lives at
 * table + vtable[2 + i] (0 = absent, use the default). Offset fields hold a
 * u32 relative to their own position (forward only, so the structure is a DAG
 * and reading cannot loop). Vectors and strings are a u32 length followed by
 * the elements.
 *
 * Every read checks that the bytes lie inside the file, and the total amount
 * of vector/string data read is budgeted against the file size, so a hostile
 * file whose tables all point at one huge vector cannot make parsing hang.
 */
import { ByteBuffer } from 'flatbuffers';
import { TfliteFormatError } from './errors.js';

/** Amplification budget: bytes of vector/string data read may not exceed this multiple of the file size (+ 1 MiB). */
const WORK_FACTOR = 16;

const UTF8 = new TextDecoder('utf-8', { fatal: false });

export class FlatReader {
  readonly bb: ByteBuffer;
  readonly size: number;
  private work = 0;
  private readonly workLimit: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly source?: string,
    /**
     * Makes bytes [offset, offset + length) of `bytes` hold the file's bytes (a file source reads them then;
     * a model in memory has them all). Called before every read, so the tables are read and the weights are not.
     */
    private readonly ensure: (offset: number, length: number) => void = () => {},
  ) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
    this.workLimit = WORK_FACTOR * bytes.length + (1 << 20);
  }

  fail(message: string, offset: number): never {
    throw new TfliteFormatError(message, offset, this.source);
  }

  /** Throws unless [offset, offset+len) lies inside the file. */
  need(offset: number, len: number, what: string): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(len) ||
      offset < 0 ||
      len < 0 ||
      offset + len > this.size
    ) {
      this.fail(
        `${what}: ${len} bytes at ${offset} run past the end of the ${this.size}-byte file`,
        offset < 0 || offset > this.size ? this.size : offset,
      );
    }
  }

  /** need() and makes the bytes readable: for data read as a whole (strings, vectors, custom options). */
  load(offset: number, len: number, what: string): void {
    this.need(offset, len, what);
    this.ensure(offset, len);
  }

  charge(bytes: number, offset: number, what: string): void {
    this.work += bytes;
    if (this.work > this.workLimit)
      this.fail(
        `${what}: the file's tables reference more than ${WORK_FACTOR}x its size in data (malformed or hostile file)`,
        offset,
      );
  }

  u8(off: number, what: string): number {
    this.load(off, 1, what);
    return this.bb.readUint8(off);
  }
  i8(off: number, what: string): number {
    this.load(off, 1, what);
    return this.bb.readInt8(off);
  }
  u16(off: number, what: string): number {
    this.load(off, 2, what);
    return this.bb.readUint16(off);
  }
  i32(off: number, what: string): number {
    this.load(off, 4, what);
    return this.bb.readInt32(off);
  }
  u32(off: number, what: string): number {
    this.load(off, 4, what);
    return this.bb.readUint32(off);
  }
  i64(off: number, what: string): bigint {
    this.load(off, 8, what);
    return this.bb.readInt64(off);
  }
  u64(off: number, what: string): bigint {
    this.load(off, 8, what);
    return this.bb.readUint64(off);
  }
  f32(off: number, what: string): number {
    this.load(off, 4, what);
    return this.bb.readFloat32(off);
  }

  /** The root table (the u32 at byte 0 points at it). */
  root(what: string): Table {
    return this.table(this.u32(0, `${what} root offset`), what);
  }

  /** The table starting at `pos`, with its vtable checked. */
  table(pos: number, what: string): Table {
    const soff = this.i32(pos, `${what} vtable offset`);
    const vt = pos - soff;
    if (vt < 0 || vt + 4 > this.size) this.fail(`${what}: vtable offset ${soff} points outside the file`, pos);
    const vtSize = this.u16(vt, `${what} vtable size`);
    const objSize = this.u16(vt + 2, `${what} table size`);
    if (vtSize < 4 || vtSize % 2 !== 0) this.fail(`${what}: vtable size ${vtSize} is not an even number ≥ 4`, vt);
    if (objSize < 4) this.fail(`${what}: table size ${objSize} is smaller than its vtable offset`, vt);
    this.need(vt, vtSize, `${what} vtable`);
    this.need(pos, objSize, `${what} table`);
    return new Table(this, pos, vt, vtSize, objSize, what);
  }
}

/** A vector's element count and the position of its first element. */
export interface VectorRef {
  start: number;
  length: number;
}

export class Table {
  constructor(
    readonly r: FlatReader,
    readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly objSize: number,
    readonly what: string,
  ) {}

  /** Absolute position of field `id` (`size` bytes), or 0 when the field is absent. */
  private field(id: number, size: number, name: string): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > this.vtSize) return 0;
    const fo = this.r.u16(this.vt + slot, `${this.what}.${name} vtable slot`);
    if (fo === 0) return 0;
    if (fo < 4 || fo + size > this.objSize)
      this.r.fail(
        `${this.what}.${name}: field offset ${fo} (+${size} bytes) lies outside the ${this.objSize}-byte table`,
        this.vt + slot,
      );
    return this.pos + fo;
  }

  has(id: number): boolean {
    const slot = 4 + 2 * id;
    return slot + 2 <= this.vtSize && this.r.u16(this.vt + slot, `${this.what} vtable slot ${id}`) !== 0;
  }

  int8(id: number, def: number, name: string): number {
    const p = this.field(id, 1, name);
    return p ? this.r.i8(p, `${this.what}.${name}`) : def;
  }
  uint8(id: number, def: number, name: string): number {
    const p = this.field(id, 1, name);
    return p ? this.r.u8(p, `${this.what}.${name}`) : def;
  }
  bool(id: number, def: boolean, name: string): boolean {
    const p = this.field(id, 1, name);
    return p ? this.r.u8(p, `${this.what}.${name}`) !== 0 : def;
  }
  int32(id: number, def: number, name: string): number {
    const p = this.field(id, 4, name);
    return p ? this.r.i32(p, `${this.what}.${name}`) : def;
  }
  uint32(id: number, def: number, name: string): number {
    const p = this.field(id, 4, name);
    return p ? this.r.u32(p, `${this.what}.${name}`) : def;
  }
  uint64(id: number, def: bigint, name: string): bigint {
    const p = this.field(id, 8, name);
    return p ? this.r.u64(p, `${this.what}.${name}`) : def;
  }
  float32(id: number, def: number, name: string): number {
    const p = this.field(id, 4, name);
    return p ? this.r.f32(p, `${this.what}.${name}`) : def;
  }

  /** Target position of an offset field, or 0 when absent. */
  private target(id: number, name: string): number {
    const p = this.field(id, 4, name);
    if (!p) return 0;
    const rel = this.r.u32(p, `${this.what}.${name} offset`);
    const t = p + rel;
    if (rel === 0 || t >= this.r.size) this.r.fail(`${this.what}.${name}: offset ${rel} points outside the file`, p);
    return t;
  }

  table(id: number, name: string, what = `${this.what}.${name}`): Table | null {
    const t = this.target(id, name);
    return t ? this.r.table(t, what) : null;
  }

  /** A vector of `elemSize`-byte elements, bounds-checked as a whole and charged to the work budget. */
  vector(id: number, elemSize: number, name: string): VectorRef | null {
    const t = this.target(id, name);
    if (!t) return null;
    const length = this.r.u32(t, `${this.what}.${name} length`);
    const bytes = length * elemSize;
    this.r.need(t + 4, bytes, `${this.what}.${name} (${length} elements)`);
    this.r.charge(bytes, t, `${this.what}.${name}`);
    return { start: t + 4, length };
  }

  int32Vector(id: number, name: string): number[] | null {
    const v = this.vector(id, 4, name);
    if (!v) return null;
    this.r.load(v.start, 4 * v.length, `${this.what}.${name}`);
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt32(v.start + 4 * i);
    return out;
  }

  float32Vector(id: number, name: string): number[] | null {
    const v = this.vector(id, 4, name);
    if (!v) return null;
    this.r.load(v.start, 4 * v.length, `${this.what}.${name}`);
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readFloat32(v.start + 4 * i);
    return out;
  }

  int64Vector(id: number, name: string): bigint[] | null {
    const v = this.vector(id, 8, name);
    if (!v) return null;
    this.r.load(v.start, 8 * v.length, `${this.what}.${name}`);
    const out = new Array<bigint>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt64(v.start + 8 * i);
    return out;
  }

  string(id: number, name: string): string | null {
    const v = this.vector(id, 1, name);
    if (!v) return null;
    this.r.load(v.start, v.length, `${this.what}.${name}`);
    return UTF8.decode(this.r.bytes.subarray(v.start, v.start + v.length));
  }

  /** Tables of a vector of tables, each resolved and checked on access. */
  tableVector(id: number, name: string): { length: number; get(i: number, what: string): Table } | null {
    const v = this.vector(id, 4, name);
    if (!v) return null;
    const r = this.r;
    return {
      length: v.length,
      get(i: number, what: string): Table {
        const p = v.start + 4 * i;
        const rel = r.u32(p, `${what} offset`);
        if (rel === 0 || p + rel >= r.size) r.fail(`${what}: offset ${rel} points outside the file`, p);
        return r.table(p + rel, what);
      },
    };
  }

  /** Union member: its type tag (field `typeId`) and its table (field `typeId + 1`). */
  union(typeId: number, name: string): { type: number; table: Table | null } {
    const type = this.uint8(typeId, 0, `${name}_type`);
    return { type, table: type === 0 ? null : this.table(typeId + 1, name) };
  }
}
