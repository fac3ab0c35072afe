/**
 * Byte sizes as people write them ("2MiB", "100KiB", "1.5MB", "2097152") and
 * as reports print them ("2,107,392 B (2.01 MiB)").
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['b', 1],
  ['kb', 1e3],
  ['mb', 1e6],
  ['gb', 1e9],
  ['kib', 1024],
  ['mib', 1024 ** 2],
  ['gib', 1024 ** 3],
];

/**
 * Parses a byte size: a number with an optional unit B, KB, MB, GB (powers of
 * 1000) or KiB, MiB, GiB (powers of 1024), case-insensitive, optional space.
 * The result must be a whole number of bytes.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a byte size (examples: 2097152, 2MiB, 100KiB, 1.5MB)`);
  const unit = m[2]!.toLowerCase() || 'b';
  const factor = UNITS.find(([u]) => u === unit)?.[1];
  if (factor === undefined) {
    throw new Error(
      `'${text}': unknown unit '${m[2]}' (use B, KB, MB, GB for powers of 1000 or KiB, MiB, GiB for powers of 1024)`,
    );
  }
  const bytes = Number(m[1]) * factor;
  // 1.5KiB is 1536 exactly; 0.3KB is 300 up to float rounding.
  const rounded = Math.round(bytes);
  if (Math.abs(bytes - rounded) > 1e-6 * Math.max(1, bytes))
    throw new Error(`'${text}' is not a whole number of bytes (${bytes})`);
  if (!Number.isSafeInteger(rounded)) throw new Error(`'${text}' is too large`);
  return rounded;
}

/** 2107392 → "2,107,392" */
export function groupDigits(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 2107392 → "2.01 MiB"; below 1 KiB → "1000 B". */
export function humanBytes(n: number): string {
  if (Math.abs(n) < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** 2107392 → "2,107,392 B (2.01 MiB)" */
export function formatBytes(n: number): string {
  return Math.abs(n) < 1024 ? `${groupDigits(n)} B` : `${groupDigits(n)} B (${humanBytes(n)})`;
}
