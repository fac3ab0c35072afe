// Entry point of the WASM module: re-exports every kernel.
export function abi_version(): i32 { return 1; }
