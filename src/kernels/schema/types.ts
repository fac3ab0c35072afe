/**
 * The vocabulary of the kernel schema (kernels.ts): typed parameters, byte ranges as
 * formulas of the parameters, and where each kernel's body is.
 */

/**
 * How a parameter crosses the boundary (every one is a JS number at the call):
 * - `ptr`: byte offset into the kernels' memory (usize); 0 means "absent" for optional operands;
 * - `i32`, `f32`: a value of that type;
 * - `usize`: an i32 at the boundary, a usize in the body (strides in bytes);
 * - `sign`: an i32 flag that picks the body's byte type (0: u8, 1: i8) at compile time:
 *   each `sign` parameter is a type argument of the body, not a value;
 * - `bytes`: an i32 byte count the debug build checks and the manifest reads; not passed to the body.
 * A kind ending in `?` marks an optional trailing parameter: a call may leave it out, and
 * it is then 0 (WebAssembly reads a missing argument as 0), so a kernel gains a parameter
 * without its existing callers changing; the body gives 0 today's meaning.
 */
export type BaseKind = 'ptr' | 'i32' | 'f32' | 'usize' | 'sign' | 'bytes';
export type ParamKind = BaseKind | `${BaseKind}?`;

/** The kind without its optional mark. */
export function baseKind(k: ParamKind): BaseKind {
  return k.replace('?', '') as BaseKind;
}

/** Number of leading parameters a call must pass (all but the optional trailing ones). */
export function requiredCount(params: Params): number {
  const kinds = Object.values(params);
  const first = kinds.findIndex((k) => k.endsWith('?'));
  if (first >= 0 && kinds.slice(first).some((k) => !k.endsWith('?')))
    throw new Error(`optional parameters must come last: ${Object.keys(params).join(', ')}`);
  return first < 0 ? kinds.length : first;
}

export type Params = Readonly<Record<string, ParamKind>>;

/** A kernel's arguments by name. */
export type Args<P extends Params> = { readonly [K in keyof P]: number };

/** `rows` spans of `bytes` bytes, `stride` bytes apart, starting at `start` (rows = 1 for a plain span). */
export interface ByteRange {
  /** Parameter the range belongs to (x, w, b, y, res, …). */
  operand: string;
  start: number;
  bytes: number;
  rows: number;
  stride: number;
}

export interface KernelRanges {
  reads: ByteRange[];
  writes: ByteRange[];
}

export interface KernelSpec<P extends Params = Params> {
  /** What the kernel computes (the doc comment of every generated declaration). */
  readonly doc: string;
  /** Parameters in call order. */
  readonly params: P;
  /** Debug-build checks: [AssemblyScript condition over the parameters, message]. */
  readonly checks: readonly (readonly [string, string])[];
  /**
   * The body: a function exported by `assembly/${from}.ts`, called with the parameters in
   * order (less `sign` and `bytes` ones; `usize` ones cast), or with `args`, an
   * AssemblyScript argument list over the parameters, where the export is a special case of
   * a more general body. Type arguments: `types`, then one per `sign` parameter (u8 or i8).
   */
  readonly body: {
    readonly from: string;
    readonly fn: string;
    readonly args?: string;
    readonly types?: readonly string[];
    /**
     * The body takes one argument, a body struct (BODY_STRUCTS): its fields are the
     * kernel's parameters of the same names, or the AssemblyScript expressions in `fill`.
     * Several kernels share such a body, and its parameter list is written only there.
     */
    readonly struct?: string;
    readonly fill?: Readonly<Record<string, string>>;
  };
  /** The bytes a call reads and writes, from its arguments. */
  ranges(a: Args<NoInfer<P>>): KernelRanges;
}

/** Declares a kernel, keeping its parameter names in the type. */
export function kernel<const P extends Params>(spec: KernelSpec<P>): KernelSpec<P> {
  return spec;
}

/** One contiguous span. */
export function span(operand: string, start: number, bytes: number): ByteRange {
  return { operand, start, bytes, rows: 1, stride: bytes };
}

/** n spans of `bytes` bytes, `stride` apart. */
export function rows(operand: string, start: number, bytes: number, n: number, stride: number): ByteRange {
  return { operand, start, bytes, rows: n, stride };
}

/** The range when the optional operand is present (its pointer or flag is not 0). */
export function opt(cond: number, r: ByteRange): ByteRange[] {
  return cond ? [r] : [];
}

/** Fields of a body struct in order: scalar kinds only (pointers, values). */
export type BodyStruct = Readonly<Record<string, 'ptr' | 'i32' | 'f32' | 'usize'>>;
