/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIO: CliIO = {
  stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

/** A usage error: the message is printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses byte sizes such as 2097152, 2MiB, 100KiB, 1.5MB, 512k. */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kmg]i?b?|b)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`'${text}' is not a byte size (examples: 2097152, 2MiB, 100KiB, 1.5MB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = { b: 1, k: 1024, kb: 1000, kib: 1024, ki: 1024, m: 1 << 20, mb: 1e6, mib: 1 << 20, mi: 1 << 20, g: 1 << 30, gb: 1e9, gib: 1 << 30, gi: 1 << 30 };
  const f = mult[unit];
  if (f === undefined) throw new UsageError(`unknown unit in '${text}'`);
  return Math.floor(n * f);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(2)} MiB`;
}
