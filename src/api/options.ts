/** From the public ModelOptions to what prepareRun takes: checked, with errors that name the option and the value. */
import { parseByteSize } from '../../planner/bytes.js';
import { UsageError } from '../errors.js';
import type { RunOptions } from '../run_setup.js';
import type { ModelOptions } from './types.js';

/** A budget as bytes: a positive whole number, or text like '2MiB'. */
export function budgetBytes(budget: number | string): number {
  let n: number;
  if (typeof budget === 'number') n = budget;
  else {
    try {
      n = parseByteSize(budget);
    } catch (e) {
      throw new UsageError(`budget: ${(e as Error).message}`);
    }
  }
  if (!(Number.isInteger(n) && n > 0))
    throw new UsageError(`budget must be a whole number of bytes > 0, got ${budget}`);
  return n;
}

export function runOptions(options: ModelOptions, kernels: WebAssembly.Module): RunOptions {
  const { chunks, budget, float, streamHead, debug, stream } = options;
  if (stream !== undefined && stream !== 'auto' && stream !== 'on' && stream !== 'off')
    throw new UsageError(`stream must be 'auto', 'on' or 'off', got ${JSON.stringify(stream)}`);
  if (chunks !== undefined && chunks !== 'auto' && chunks !== 'none' && !(Number.isInteger(chunks) && chunks >= 1))
    throw new UsageError(`chunks must be 'auto', 'none' or a whole number ≥ 1, got ${JSON.stringify(chunks)}`);
  return {
    kernels,
    ...(chunks !== undefined ? { chunks } : {}),
    ...(budget !== undefined ? { budgetBytes: budgetBytes(budget) } : {}),
    ...(float !== undefined ? { float } : {}),
    ...(stream !== undefined ? { stream } : {}),
    ...(streamHead !== undefined ? { fuseResizeArgmax: streamHead } : {}),
    ...(debug !== undefined ? { debug } : {}),
  };
}

/** A thread count: a whole number ≥ 1 (1: the inference runs on the caller's thread only). */
export function threadCount(threads: unknown): number {
  if (!(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= 64))
    throw new UsageError(`threads must be a whole number from 1 to 64, got ${JSON.stringify(threads)}`);
  return threads;
}
