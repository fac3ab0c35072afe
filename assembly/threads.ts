// Second entry of the threads build only (asconfig target "threads": shared memory): what an
// instance running beside others on one shared memory needs besides the kernels.
import { ARGS_SHIFT } from './gen/args';

/**
 * Moves this instance's static argument structs `shift` bytes up (to a region the caller
 * reserved for this thread: one KERNEL_RESERVED_BYTES copy of the static area), so
 * kernels running at once on several threads never share an argument struct.
 */
export function kernel_thread_init(shift: usize): void {
  ARGS_SHIFT = shift;
}
