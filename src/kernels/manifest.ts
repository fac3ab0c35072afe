/**
 * Kernel manifest: one entry per exported kernel, with its parameter names and a function
 * that, from the call's arguments, gives the byte ranges the call reads and writes — both
 * from the kernel schema (src/kernels/schema/kernels.ts). The executor's debug mode asserts
 * each call stays inside the buffers its plan gave it; the kernel tests use the same entries
 * to check that every byte outside the write ranges is left unchanged.
 */
import type { Kernels } from './loader.js';
import { KERNELS, type KernelName } from './schema/kernels.js';
import {
  requiredCount,
  type Args,
  type ByteRange,
  type KernelRanges,
  type KernelSpec,
  type Params,
} from './schema/types.js';

export type { ByteRange, KernelRanges } from './schema/types.js';
export type { KernelName } from './schema/kernels.js';

export interface KernelEntry {
  name: KernelName;
  params: readonly string[];
  ranges(args: readonly number[]): KernelRanges;
}

/** Last byte (exclusive) a range touches. */
export function rangeEnd(r: ByteRange): number {
  return r.rows <= 0 || r.bytes <= 0 ? r.start : r.start + (r.rows - 1) * r.stride + r.bytes;
}

const nonEmpty = (s: ByteRange) => s.bytes > 0 && s.rows > 0;

function entry(name: KernelName, spec: KernelSpec<Params>): KernelEntry {
  const params = Object.keys(spec.params);
  const required = requiredCount(spec.params);
  return {
    name,
    params,
    ranges(args) {
      if (args.length < required || args.length > params.length)
        throw new Error(
          `${name}: expected ${required < params.length ? `${required} to ` : ''}${params.length} arguments (${params.join(', ')}), got ${args.length}`,
        );
      // An optional parameter left out is 0, as the module reads it.
      const a: Record<string, number> = {};
      params.forEach((p, i) => (a[p] = args[i] ?? 0));
      const r = spec.ranges(a as Args<Params>);
      // Empty spans (a zero-sized operand) are dropped so that callers need not special-case them.
      return { reads: r.reads.filter(nonEmpty), writes: r.writes.filter(nonEmpty) };
    },
  };
}

export const KERNEL_MANIFEST: readonly KernelEntry[] = (Object.entries(KERNELS) as [KernelName, KernelSpec][]).map(
  ([name, spec]) => entry(name, spec),
);

export const KERNEL_MANIFEST_BY_NAME: ReadonlyMap<KernelName, KernelEntry> = new Map(
  KERNEL_MANIFEST.map((e) => [e.name, e]),
);

/**
 * Wrap every manifest kernel so that `check(name, ranges, args)` runs before the call
 * (it throws to refuse the call). For debug modes and tests; adds a closure call per op.
 */
export function withRangeChecks(
  k: Kernels,
  check: (name: KernelName, ranges: KernelRanges, args: readonly number[]) => void,
): Kernels {
  const wrapped: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(k)) wrapped[key] = (k as unknown as Record<string, unknown>)[key];
  for (const e of KERNEL_MANIFEST) {
    const fn = k[e.name] as (...a: number[]) => void;
    wrapped[e.name] = (...args: number[]) => {
      check(e.name, e.ranges(args), args);
      fn(...args);
    };
  }
  return wrapped as unknown as Kernels;
}
