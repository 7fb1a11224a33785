//! wasmtask Zig SDK: write `pub fn handle(req: *wt.Request) !wt.Response`.
//!
//!     const wt = @import("wasmtask");
//!
//!     pub fn handle(req: *wt.Request) !wt.Response {
//!         const name = req.query("name") orelse "world";
//!         wt.log(.info, "hello from Zig, {s}", .{name});
//!         return wt.Response.json(req.allocator, .{ .hello = name });
//!     }
//!
//! Deployed as source (language "zig"), wasmtask compiles it for
//! wasm32-freestanding together with this module and `entry.zig` (the ABI
//! exports; guest_sdk/ABI.md). `req.allocator` is an arena that lives for the
//! request; nothing needs freeing (the host drops the instance). A returned
//! `error.OutOfMemory` ends the call with the code `memory_limit`, any other
//! error with `guest_error` and the error's name.

const std = @import("std");

pub const Level = enum(i32) { debug = 0, info = 1, warn = 2, err = 3 };

const host = struct {
    extern "wasmtask" fn log(level: i32, ptr: [*]const u8, len: usize) void;
    extern "wasmtask" fn fetch(ptr: [*]const u8, len: usize) i32;
    extern "wasmtask" fn staged_read(ptr: [*]u8, len: usize) i32;
};

/// One log line on the tenant's log stream.
pub fn log(level: Level, comptime format: []const u8, args: anytype) void {
    var buffer: [2048]u8 = undefined;
    const line = std.fmt.bufPrint(&buffer, format, args) catch blk: {
        @memcpy(buffer[buffer.len - 3 ..], "...");
        break :blk buffer[0..];
    };
    host.log(@intFromEnum(level), line.ptr, line.len);
}

/// The request (guest_sdk/ABI.md "The request JSON"), parsed.
pub const Request = struct {
    /// An arena for this request.
    allocator: std.mem.Allocator,
    /// The request JSON as the host sent it.
    raw: []const u8,
    /// The same, parsed.
    value: std.json.Value,

    pub fn method(self: *const Request) []const u8 {
        return self.string(&.{"method"}) orelse "GET";
    }

    pub fn path(self: *const Request) []const u8 {
        return self.string(&.{"path"}) orelse "/";
    }

    /// A query parameter (the first value when repeated).
    pub fn query(self: *const Request, name: []const u8) ?[]const u8 {
        const value = self.get(&.{ "query", name }) orelse return null;
        return switch (value) {
            .string => |text| text,
            .array => |list| if (list.items.len > 0 and list.items[0] == .string) list.items[0].string else null,
            else => null,
        };
    }

    /// A header, by its lower-case name.
    pub fn header(self: *const Request, name: []const u8) ?[]const u8 {
        return self.string(&.{ "headers", name });
    }

    pub fn secret(self: *const Request, name: []const u8) ?[]const u8 {
        return self.string(&.{ "secrets", name });
    }

    /// The body as text (null when empty or not UTF-8: see `body_base64` in `value`).
    pub fn body(self: *const Request) ?[]const u8 {
        return self.string(&.{"body"});
    }

    /// The value at a path of object keys, e.g. `&.{ "meta", "tenant" }`.
    pub fn get(self: *const Request, keys: []const []const u8) ?std.json.Value {
        var value = self.value;
        for (keys) |key| {
            if (value != .object) return null;
            value = value.object.get(key) orelse return null;
        }
        return value;
    }

    pub fn string(self: *const Request, keys: []const []const u8) ?[]const u8 {
        const value = self.get(keys) orelse return null;
        return if (value == .string) value.string else null;
    }
};

pub const Header = struct { []const u8, []const u8 };

/// What a handler returns: a JSON value, an HTTP response, or an error.
pub const Response = union(enum) {
    /// A JSON value, already serialized.
    json_text: []const u8,
    http: Http,
    failure: Failure,

    pub const Http = struct {
        status: u16 = 200,
        content_type: ?[]const u8 = null,
        headers: []const Header = &.{},
        body: []const u8 = "",
    };

    pub const Failure = struct {
        code: []const u8 = "guest_error",
        message: []const u8,
    };

    /// Any Zig value, serialized with std.json.
    pub fn json(allocator: std.mem.Allocator, value: anytype) error{OutOfMemory}!Response {
        return .{ .json_text = try std.json.Stringify.valueAlloc(allocator, value, .{}) };
    }

    /// A response with a body and a content-type.
    pub fn text(status: u16, content_type: []const u8, body_text: []const u8) Response {
        return .{ .http = .{ .status = status, .content_type = content_type, .body = body_text } };
    }

    /// A guest-reported error (code guest_error).
    pub fn fail(message: []const u8) Response {
        return .{ .failure = .{ .message = message } };
    }
};

/// The fetch request JSON of ABI.md.
pub const FetchRequest = struct {
    url: []const u8,
    method: []const u8 = "GET",
    headers: []const Header = &.{},
    body: ?[]const u8 = null,
};

pub const FetchResponse = struct {
    ok: bool,
    status: i64 = 0,
    body: []const u8 = "",
    /// On failure: the error code (egress_denied, fetch_limit, ...) and message.
    error_code: []const u8 = "",
    error_message: []const u8 = "",
    /// The whole response JSON, parsed.
    value: std.json.Value,
};

/// An HTTP request through the host (egress policy applies).
pub fn fetch(allocator: std.mem.Allocator, request: FetchRequest) !FetchResponse {
    const request_json = try std.json.Stringify.valueAlloc(allocator, request, .{});
    const length = host.fetch(request_json.ptr, request_json.len);
    if (length < 0) return error.FetchUnavailable;
    const raw = try allocator.alloc(u8, @intCast(length));
    _ = host.staged_read(raw.ptr, raw.len);
    const value = try std.json.parseFromSliceLeaky(std.json.Value, allocator, raw, .{});
    var response: FetchResponse = .{ .ok = false, .value = value };
    if (value != .object) return error.BadFetchResponse;
    const object = value.object;
    if (object.get("ok")) |ok| response.ok = ok == .bool and ok.bool;
    if (object.get("status")) |status| if (status == .integer) {
        response.status = status.integer;
    };
    if (object.get("body")) |body| if (body == .string) {
        response.body = body.string;
    };
    if (object.get("error")) |failure| if (failure == .object) {
        if (failure.object.get("code")) |code| if (code == .string) {
            response.error_code = code.string;
        };
        if (failure.object.get("message")) |message| if (message == .string) {
            response.error_message = message.string;
        };
    };
    return response;
}

// ---- the ABI side (used by entry.zig) -------------------------------------------------

const heap = std.heap.wasm_allocator;

const out_of_memory_reply =
    \\{"ok":false,"error":{"code":"memory_limit","message":"the guest ran out of memory (memory limit)"}}
;

pub fn alloc(length: usize) ?[*]u8 {
    const buffer = heap.alloc(u8, @max(length, 1)) catch return null;
    return buffer.ptr;
}

fn pack(bytes: []const u8) u64 {
    return (@as(u64, @intFromPtr(bytes.ptr)) << 32) | @as(u64, @intCast(bytes.len));
}

/// Parse the request, call the handler, serialize its reply.
pub fn run(comptime handler: anytype, request: []const u8) u64 {
    var arena = std.heap.ArenaAllocator.init(heap);
    const reply = runInArena(handler, arena.allocator(), request) catch |err| switch (err) {
        error.OutOfMemory => return pack(out_of_memory_reply),
    };
    return pack(reply);
}

fn runInArena(comptime handler: anytype, arena: std.mem.Allocator, raw: []const u8) error{OutOfMemory}![]const u8 {
    const value = std.json.parseFromSliceLeaky(std.json.Value, arena, raw, .{}) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        else => return failureReply(arena, "guest_error", "the request is not valid JSON"),
    };
    var request: Request = .{ .allocator = arena, .raw = raw, .value = value };
    const response = handler(&request) catch |err| {
        if (err == error.OutOfMemory) return error.OutOfMemory;
        return failureReply(arena, "guest_error", @errorName(err));
    };
    return switch (response) {
        .json_text => |text| std.fmt.allocPrint(arena,
            \\{{"ok":true,"result":{{"type":"json","value":{s}}}}}
        , .{if (text.len == 0) "null" else text}),
        .http => |http| blk: {
            var headers = try arena.alloc(Header, http.headers.len + 1);
            @memcpy(headers[0..http.headers.len], http.headers);
            var count = http.headers.len;
            if (http.content_type) |content_type| {
                headers[count] = .{ "content-type", content_type };
                count += 1;
            }
            break :blk std.json.Stringify.valueAlloc(arena, .{
                .ok = true,
                .result = .{ .type = "response", .status = http.status, .headers = headers[0..count], .body = http.body },
            }, .{});
        },
        .failure => |failure| failureReply(arena, failure.code, failure.message),
    };
}

fn failureReply(arena: std.mem.Allocator, code: []const u8, message: []const u8) error{OutOfMemory}![]const u8 {
    return std.json.Stringify.valueAlloc(arena, .{ .ok = false, .@"error" = .{ .code = code, .message = message } }, .{});
}

/// The panic handler of a guest (entry.zig): log the message, then trap (guest_error).
pub fn panicHandler(message: []const u8, first_trace_address: ?usize) noreturn {
    _ = first_trace_address;
    log(.err, "panic: {s}", .{message});
    @trap();
}
