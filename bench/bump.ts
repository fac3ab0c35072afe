/**
 * Bump allocator for benchmarks that call kernels directly: 64-byte aligned
 * blocks above the kernels' reserved static data, growing the memory as needed.
 */
import { KERNEL_RESERVED_BYTES } from '../src/kernels/loader.js';

export class Bump {
  top = KERNEL_RESERVED_BYTES;
  constructor(readonly mem: WebAssembly.Memory) {}
  alloc(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + 63) & ~63;
    const need = this.top - this.mem.buffer.byteLength;
    if (need > 0) this.mem.grow(Math.ceil(need / 65536));
    return p;
  }
  put(data: Float32Array): number {
    const p = this.alloc(data.byteLength);
    new Float32Array(this.mem.buffer, p, data.length).set(data);
    return p;
  }
}
