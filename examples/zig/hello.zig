//! A Zig function for wasmtask: deploy it with language "zig".
//! It greets ?name=, logs, and echoes the request method.
const wt = @import("wasmtask");

pub fn handle(req: *wt.Request) !wt.Response {
    const name = req.query("name") orelse "world";
    wt.log(.info, "hello from Zig, {s}", .{name});
    return wt.Response.json(req.allocator, .{ .hello = name, .method = req.method(), .language = "zig" });
}
