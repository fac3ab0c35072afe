// What the wrangler.toml rules make of non-JavaScript imports: a .wasm file is a
// CompiledWasm module (compiled when the worker is deployed), a .tflite file a
// Data module (its bytes), a .txt file a Text module.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.tflite' {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module '*.txt' {
  const text: string;
  export default text;
}
