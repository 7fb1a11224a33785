// The ABI exports of an AssemblyScript guest (guest_sdk/ABI.md): the build's entry file.
// `./index` is the guest's source; `./wasmtask` is the SDK.
import { handle } from "./index";
import { alloc, run } from "./wasmtask";

export function wasmtask_alloc(length: usize): usize {
  return alloc(length);
}

export function wasmtask_handle(ptr: usize, length: usize): u64 {
  return run(ptr, length, handle);
}
