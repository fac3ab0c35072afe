// Entry point of the WASM module. The kernels' exports are generated from the kernel
// schema (src/kernels/schema/kernels.ts) into gen/exports.ts: every pointer is a byte offset
// into the imported memory (env.memory); optional operands (bias b, residual res) are 0
// when absent. No kernel allocates or touches bytes outside its operands. The debug build
// checks the shape arguments (assert → env.abort); the release build does not.
export * from './gen/exports';

export function abi_version(): i32 {
  return 1;
}

/** End of the module's own static data (AS __heap_base): the bytes at the bottom of memory it uses. */
export function kernel_heap_base(): usize {
  return __heap_base;
}
