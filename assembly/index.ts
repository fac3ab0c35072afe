// Entry point of the WASM module: re-exports every kernel.
import { gemm1x1 } from './gemm';

export function abi_version(): i32 { return 1; }

export function f32_gemm_1x1(x: usize, M: i32, K: i32, w: usize, b: usize, y: usize, N: i32,
                             lo: f32, hi: f32, res: usize, accumulate: i32): void {
  gemm1x1(x, M, K, w, b, y, N, lo, hi, res, accumulate);
}

/** End of the module's own static data (AS __heap_base): the bytes at the bottom of memory it uses. */
export function kernel_heap_base(): usize { return __heap_base; }
