/** Labels text: one label per line, line i names output index i (a final empty line is ignored). */
export function parseLabels(text: string, what = 'labels'): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`${what} is empty`);
  return lines;
}
