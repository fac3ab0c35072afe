/**
 * tfjs `weightsManifest` decoding (tfjs-core io `WeightsManifestConfig`):
 * groups of `{paths, weights}`; the shards of every group, concatenated in
 * manifest order, hold the weights back to back in manifest order, with no
 * alignment padding. A weight is `{name, shape, dtype, quantization?}`:
 * - no quantization: float32 / int32 little-endian, 4 bytes each;
 * - `quantization: {dtype: 'uint8'|'uint16', min, scale}`: stored as q,
 *   value = q·scale + min (float64 arithmetic, then rounded to the weight's
 *   dtype: float32, or Math.round for int32), as tfjs-core `decodeWeights` does;
 * - `quantization: {dtype: 'float16'}`: IEEE half floats.
 */

export class TfjsModelError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'TfjsModelError';
  }
}

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min?: number;
  scale?: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface DecodedWeight {
  name: string;
  shape: number[];
  /** Values as tfjs holds them after loading (float32 for float weights). */
  data: Float32Array | Int32Array;
  /** Where the weight's bytes start in the concatenated shards. */
  byteOffset: number;
  quantization?: WeightQuantization;
}

/** IEEE 754 binary16 → number (exact: every half float is a float32). */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the manifest's structure and returns it typed. */
export function parseWeightsManifest(manifest: unknown, source: string): WeightGroup[] {
  if (!Array.isArray(manifest)) throw new TfjsModelError(source, "'weightsManifest' must be an array of weight groups");
  return manifest.map((g, gi) => {
    if (!isRecord(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new TfjsModelError(source, `weightsManifest[${gi}] must have 'paths' and 'weights' arrays`);
    }
    const weights = g.weights.map((w, wi): WeightSpec => {
      const where = `weightsManifest[${gi}].weights[${wi}]`;
      if (!isRecord(w) || typeof w.name !== 'string') throw new TfjsModelError(source, `${where} has no name`);
      const shape = w.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
        throw new TfjsModelError(source, `weight '${w.name}': bad shape ${JSON.stringify(shape)}`);
      }
      if (w.dtype !== 'float32' && w.dtype !== 'int32') {
        throw new TfjsModelError(
          source,
          `weight '${w.name}': dtype '${String(w.dtype)}' is not supported (float32 or int32)`,
        );
      }
      const spec: WeightSpec = { name: w.name, shape: shape as number[], dtype: w.dtype };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isRecord(q) || (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16')) {
          throw new TfjsModelError(
            source,
            `weight '${w.name}': quantization dtype ${JSON.stringify(isRecord(q) ? q.dtype : q)} is not 'uint8', 'uint16' or 'float16'`,
          );
        }
        if (q.dtype === 'float16') {
          if (w.dtype !== 'float32')
            throw new TfjsModelError(source, `weight '${w.name}': float16 storage needs dtype float32, got ${w.dtype}`);
          spec.quantization = { dtype: 'float16' };
        } else {
          if (
            typeof q.min !== 'number' ||
            typeof q.scale !== 'number' ||
            !Number.isFinite(q.min) ||
            !Number.isFinite(q.scale)
          ) {
            throw new TfjsModelError(
              source,
              `weight '${w.name}': ${q.dtype} quantization needs finite numbers 'min' and 'scale'`,
            );
          }
          spec.quantization = { dtype: q.dtype, min: q.min, scale: q.scale };
        }
      }
      return spec;
    });
    return { paths: g.paths.map(String), weights };
  });
}

function bytesPerValue(w: WeightSpec): number {
  const q = w.quantization?.dtype;
  return q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 4;
}

/** Bytes the manifest's weights occupy in the concatenated shards. */
export function manifestByteLength(groups: WeightGroup[]): number {
  let n = 0;
  for (const g of groups) for (const w of g.weights) n += w.shape.reduce((a, b) => a * b, 1) * bytesPerValue(w);
  return n;
}

/** A weight of the manifest: its shape now, its values decoded when `read` is called. */
export interface LazyWeight {
  name: string;
  shape: number[];
  /** Where the weight's bytes start in the concatenated shards. */
  byteOffset: number;
  quantization?: WeightQuantization;
  /** The values as tfjs holds them after loading (float32 for float weights), decoded now. */
  read(): Float32Array | Int32Array;
}

/**
 * Indexes every weight of the manifest in `data`, the concatenation of all
 * shards in manifest order, without decoding any: `data` is asked for only
 * when a weight is read (after planning), and its byte count is checked then.
 */
export function indexWeights(groups: WeightGroup[], data: () => Uint8Array, source: string): Map<string, LazyWeight> {
  const want = manifestByteLength(groups);
  const bytes = (): Uint8Array => {
    const d = data();
    if (d.byteLength !== want)
      throw new TfjsModelError(source, `weight data is ${d.byteLength} bytes but the manifest describes ${want} bytes`);
    return d;
  };
  const out = new Map<string, LazyWeight>();
  let off = 0;
  for (const g of groups) {
    for (const w of g.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (out.has(w.name)) throw new TfjsModelError(source, `weight '${w.name}' appears twice in the manifest`);
      const at = off;
      const lw: LazyWeight = {
        name: w.name,
        shape: w.shape.slice(),
        byteOffset: at,
        read: () => decodeOne(w, n, bytes(), at),
      };
      if (w.quantization) lw.quantization = w.quantization;
      out.set(w.name, lw);
      off += n * bytesPerValue(w);
    }
  }
  return out;
}

function decodeOne(w: WeightSpec, n: number, data: Uint8Array, off: number): Float32Array | Int32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values = w.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  const q = w.quantization;
  const round = w.dtype === 'int32' ? Math.round : (v: number) => v;
  if (!q) {
    for (let k = 0; k < n; k++)
      values[k] = w.dtype === 'int32' ? view.getInt32(off + 4 * k, true) : view.getFloat32(off + 4 * k, true);
  } else if (q.dtype === 'float16') {
    for (let k = 0; k < n; k++) values[k] = float16ToNumber(view.getUint16(off + 2 * k, true));
  } else if (q.dtype === 'uint8') {
    for (let k = 0; k < n; k++) values[k] = round(view.getUint8(off + k) * q.scale! + q.min!);
  } else {
    for (let k = 0; k < n; k++) values[k] = round(view.getUint16(off + 2 * k, true) * q.scale! + q.min!);
  }
  return values;
}

/**
 * Decodes every weight of the manifest from `data`, the concatenation of all
 * shards in manifest order. The byte count must match exactly.
 */
export function decodeWeights(groups: WeightGroup[], data: Uint8Array, source: string): Map<string, DecodedWeight> {
  const want = manifestByteLength(groups);
  if (data.byteLength !== want)
    throw new TfjsModelError(
      source,
      `weight data is ${data.byteLength} bytes but the manifest describes ${want} bytes`,
    );
  const index = indexWeights(groups, () => data, source);
  const out = new Map<string, DecodedWeight>();
  for (const w of index.values()) {
    const dw: DecodedWeight = { name: w.name, shape: w.shape, data: w.read(), byteOffset: w.byteOffset };
    if (w.quantization) dw.quantization = w.quantization;
    out.set(w.name, dw);
  }
  return out;
}
