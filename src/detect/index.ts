export * from './anchors.js';
export * from './box_coder.js';
export * from './draw.js';
export * from './flexbuffers.js';
export * from './nms.js';
export * from './postprocess.js';
export * from './run.js';
