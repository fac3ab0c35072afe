export * from './class_map.js';
export * from './images.js';
export * from './indexed_png.js';
export * from './palette.js';
