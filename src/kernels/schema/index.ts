// The kernel schema: kernels (their parameters, checks, bodies and byte ranges), the
// structs shared with the kernels, and the packed-weight layouts' sizes.
export { KERNELS, type KernelName, type KernelSchema } from './kernels.js';
export { STRUCTS, Q8_BLOCK_DESC, Q8_RQ, Q8_TILE, type StructSpec, type StructField } from './structs.js';
export type { Args, ParamKind, Params, KernelSpec } from './types.js';
