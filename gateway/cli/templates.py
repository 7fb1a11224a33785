"""What ``wasmtask init --template T`` writes: one handler per programming model or language, and the manifest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    entry: str  # the file name
    language: str
    description: str
    source: str


JS = """\
// A JSON API in the webtask model: function (ctx, cb).
// ctx.query, ctx.body, ctx.headers, ctx.method, ctx.path, ctx.secrets, ctx.meta
module.exports = function (ctx, cb) {
  const name = ctx.query.name || "world";
  console.log("hello", name);
  cb(null, { hello: name, method: ctx.method });
};
"""

WORKER = """\
// Workers style: export default { fetch(request, env, ctx) }.
// env holds [env] from wasmtask.toml and the function's secrets.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "world";
    console.log("hello", name);
    return Response.json({ hello: name, method: request.method, path: url.pathname });
  },
};
"""

WEBTASK = """\
// webtask's full HTTP control: function (ctx, req, res).
module.exports = function (ctx, req, res) {
  const name = ctx.query.name || "world";
  console.log("hello", name);
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<h1>Hello, ${name}</h1><p>${req.method} ${req.url}</p>`);
};
"""

C = """\
/* A C function for wasmtask. It greets ?name=, logs, and echoes the request method.
 * The SDK (wasmtask.h) is guest_sdk/c in the wasmtask checkout. */
#include "wasmtask.h"

void handle(const char *request) {
    char name[64] = "world";
    char method[16] = "";
    wt_json_string(request, "query.name", name, sizeof name);
    wt_json_string(request, "method", method, sizeof method);
    wt_logf(WT_INFO, "hello from C, %s", name);

    wt_buf out = {0};
    wt_buf_puts(&out, "{\\"hello\\":");
    wt_buf_json_string(&out, name);
    wt_buf_puts(&out, ",\\"method\\":");
    wt_buf_json_string(&out, method);
    wt_buf_puts(&out, ",\\"language\\":\\"c\\"}");
    wt_return_json(out.data);
}
"""

RUST = """\
//! A Rust function for wasmtask. It greets ?name=, logs, and echoes the request method.
//! No crates but the SDK (`wasmtask`, guest_sdk/rust in the wasmtask checkout).
use wasmtask::json::quote;
use wasmtask::{Request, Response};

fn handle(req: &Request) -> Result<Response, String> {
    let name = req.query("name").unwrap_or("world");
    wasmtask::log_info(&format!("hello from Rust, {}", name));
    Ok(Response::json(format!(
        "{{\\"hello\\":{},\\"method\\":{},\\"language\\":\\"rust\\"}}",
        quote(name),
        quote(req.method())
    )))
}

wasmtask::entry!(handle);
"""

ZIG = """\
//! A Zig function for wasmtask. It greets ?name=, logs, and echoes the request method.
const wt = @import("wasmtask");

pub fn handle(req: *wt.Request) !wt.Response {
    const name = req.query("name") orelse "world";
    wt.log(.info, "hello from Zig, {s}", .{name});
    return wt.Response.json(req.allocator, .{ .hello = name, .method = req.method(), .language = "zig" });
}
"""

ASSEMBLYSCRIPT = """\
// An AssemblyScript function for wasmtask. It greets ?name=, logs, and echoes the request method.
import { JSON, Request, Response, log } from "./wasmtask";

export function handle(req: Request): Response {
  const query = req.query("name");
  const name = query === null ? "world" : query;
  log("hello from AssemblyScript, " + name);
  return Response.json(`{"hello":${JSON.quote(name)},"method":${JSON.quote(req.method)},"language":"assemblyscript"}`);
}
"""

PYTHON = '''\
"""A Python function for wasmtask. It greets ?name=, logs, and echoes the request method."""

import wasmtask


def handle(request: wasmtask.Request):
    name = request.query.get("name", "world")
    wasmtask.log.info(f"hello from Python, {name}")
    return {"hello": name, "method": request.method, "language": "python"}
'''

TEMPLATES: dict[str, Template] = {
    "js": Template("index.js", "javascript", "a JSON API: module.exports = function (ctx, cb)", JS),
    "worker": Template("worker.js", "javascript", "Workers: export default { fetch(request, env) }", WORKER),
    "webtask": Template("index.js", "javascript", "full HTTP control: function (ctx, req, res)", WEBTASK),
    "c": Template("hello.c", "c", "C, built with zig cc", C),
    "rust": Template("hello.rs", "rust", "Rust, built with rustc", RUST),
    "zig": Template("hello.zig", "zig", "Zig", ZIG),
    "assemblyscript": Template("hello.ts", "assemblyscript", "AssemblyScript", ASSEMBLYSCRIPT),
    "python": Template("hello.py", "python", "Python (componentize-py; builds take ~15 s)", PYTHON),
}

GITIGNORE = """\
# local values for `wasmtask run` and `wasmtask dev` (secrets: never commit them)
.env
"""


def manifest(name: str, tenant: str, template: Template) -> str:
    return f"""\
# wasmtask.toml: what `wasmtask deploy` and `wasmtask dev` deploy. Secrets never go here:
# `wasmtask secret put NAME` for the deployed function, a .env file for `run` and `dev`.
name = "{name}"
tenant = "{tenant}"              # or --tenant / WASMTASK_TENANT
entry = "{template.entry}"
language = "{template.language}"
auth = "public"               # "token": callers need a token with the run scope
allowed_hosts = []            # where fetch() may go, e.g. ["https://api.example.com"]

[limits]                      # per call; the server's defaults when left out
timeout = "2s"
memory = "64MiB"
# fuel = "200M"

[env]                         # plain values (Workers: env)
# GREETING = "Hello"
"""
