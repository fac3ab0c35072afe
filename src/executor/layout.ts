/**
 * Layout of the one WebAssembly memory an executor runs in:
 *
 *   0            reserved          weightsBase         arenaBase            end
 *   │ module data │ (to 16 B)      │ packed weights    │ activation arena   │ page rounding
 *
 * Everything is sized before the memory is created: the memory never grows.
 */
export const WASM_PAGE = 65536;
export const ALIGN = 16;

export const alignUp = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

export interface MemoryLayout {
  reservedBytes: number;
  weightsBase: number;
  weightsBytes: number;
  arenaBase: number;
  arenaBytes: number;
  /** Total bytes the layout needs (before page rounding). */
  usedBytes: number;
  pages: number;
}

export function layoutMemory(reservedBytes: number, weightsBytes: number, arenaBytes: number): MemoryLayout {
  const weightsBase = alignUp(reservedBytes);
  const arenaBase = alignUp(weightsBase + weightsBytes);
  const usedBytes = arenaBase + arenaBytes;
  return {
    reservedBytes,
    weightsBase,
    weightsBytes,
    arenaBase,
    arenaBytes,
    usedBytes,
    pages: Math.max(1, Math.ceil(usedBytes / WASM_PAGE)),
  };
}
