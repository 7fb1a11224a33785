//! The ABI exports of a Zig guest (guest_sdk/ABI.md): the build's root module.
//! `user` is the guest's source; `wasmtask` is the SDK.
const std = @import("std");
const wt = @import("wasmtask");
const user = @import("user");

/// A panic (safety checks stay on: ReleaseSafe) is logged, then traps.
pub const panic = std.debug.FullPanic(wt.panicHandler);

export fn wasmtask_alloc(length: usize) ?[*]u8 {
    return wt.alloc(length);
}

export fn wasmtask_handle(ptr: [*]const u8, length: usize) u64 {
    return wt.run(user.handle, ptr[0..length]);
}
