/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /**
   * Present only when stderr is a terminal: `write` writes as is (a progress line redrawn in place);
   * `sharesStdout` says stdout is a terminal too, so a line printed there must first erase the progress line.
   */
  progress?: { write: (s: string) => void; sharesStdout: boolean };
}

export const processIO: CliIO = {
  stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  ...(process.stderr.isTTY
    ? { progress: { write: (s: string) => void process.stderr.write(s), sharesStdout: process.stdout.isTTY } }
    : {}),
};

/** A usage error: the message is printed with a pointer to --help, exit code 2. */
export { UsageError } from '../errors.js';
