// The WASM kernel layer: loader, weight packers and the range manifest.
export * from './loader.js';
export * from './pack.js';
export * from './manifest.js';
export * from './q8_pack.js';
export * from './gen/abi.js';
export * from './schema/index.js';
