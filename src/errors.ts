/** A wrong argument or option from the caller: the message says which and what it takes (CLI exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A tensor or op name fit for a one-line message: TFLite converters join the
 * names of fused ops with ';' (names of 800+ characters), so the first is kept
 * with a count of the others, and anything longer than `max` is cut in the middle.
 */
export function readableName(name: string, max = 120): string {
  const parts = name.split(';').filter((p) => p !== '');
  let n = parts.length > 1 ? `${parts[0]} (+${parts.length - 1} fused)` : name;
  if (n.length > max) {
    const keep = max - 1;
    n = `${n.slice(0, Math.ceil(keep / 2))}…${n.slice(n.length - Math.floor(keep / 2))}`;
  }
  return n;
}

/** An op as messages name it: its operator index and type in the file when known, and its readable name. */
export function describeOp(op: { name: string; kind: string; origin?: { index: number; type: string } }): string {
  const where = op.origin ? `operator ${op.origin.index} (${op.origin.type})` : `op (${op.kind})`;
  return `${where} '${readableName(op.name)}'`;
}

/**
 * An error of a model at a place: names the model's file, then the operator and
 * tensor where known, then what is wrong, on one line.
 */
export class ModelError extends Error {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${file}: ${where ? `${where}: ` : ''}${detail.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'ModelError';
  }
}
