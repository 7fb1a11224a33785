"""Every source language through its SDK: the example, logs, responses, fetch, errors, limits.

One guest per language answers each behaviour by ``?case=``: fewer builds
(the Python one takes ~15 s), the same program shape in every language.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isolates import IsolateError, Limits, prepare
from tests.guest_sdk.conftest import LIMITS, expect_error, run, upstream_url
from tests.toolchains.support import require_toolchain
from toolchains import Toolchains

REPO = Path(__file__).resolve().parents[2]

# Python builds a component (~15 s per new source): marked slow, still run by `make test` and CI.
LANGUAGES = ["c", "zig", "rust", "assemblyscript", pytest.param("python", marks=pytest.mark.slow)]

EXAMPLES = {
    "c": ("examples/c/hello.c", "hello from C, Ada"),
    "zig": ("examples/zig/hello.zig", "hello from Zig, Ada"),
    "rust": ("examples/rust/hello.rs", "hello from Rust, Ada"),
    "assemblyscript": ("examples/assemblyscript/hello.ts", "hello from AssemblyScript, Ada"),
    "python": ("examples/python/hello.py", "hello from Python, Ada"),
}

GUESTS = {
    "c": r"""
#include <stdlib.h>
#include <string.h>
#include "wasmtask.h"

static char *volatile newest;
static volatile unsigned long spins;

void handle(const char *request) {
    char which[32] = "", method[16] = "", text[256] = "", url[256] = "";
    wt_json_string(request, "query.case", which, sizeof which);
    wt_json_string(request, "query.url", url, sizeof url);
    wt_json_string(request, "method", method, sizeof method);
    if (!strcmp(which, "log")) {
        wt_log(WT_WARN, "careful");
        wt_return_json("true");
    } else if (!strcmp(which, "body")) {
        wt_json_string(request, "body", text, sizeof text);
        wt_return_text(text);
    } else if (!strcmp(which, "response")) {
        wt_buf body = {0};
        wt_buf_printf(&body, "created by %s", method);
        wt_return_response(201, "text/plain", body.data);
    } else if (!strcmp(which, "fetch")) {
        char *response = wt_fetch_get(url);
        double status = 0;
        wt_json_number(response, "status", &status);
        wt_json_string(response, "body", text, sizeof text);
        wt_buf out = {0};
        wt_buf_printf(&out, "{\"status\":%d,\"body\":", (int)status);
        wt_buf_json_string(&out, text);
        wt_buf_puts(&out, "}");
        wt_return_json(out.data);
    } else if (!strcmp(which, "fetch_denied")) {
        char *response = wt_fetch_get("http://denied.test/");
        wt_json_string(response, "error.code", text, sizeof text);
        wt_return_text(text);
    } else if (!strcmp(which, "fail")) {
        wt_error("bad input");
    } else if (!strcmp(which, "loop")) {
        for (;;) spins++;
    } else if (!strcmp(which, "bomb")) {
        for (;;) {
            char *block = malloc(1 << 20);
            if (!block) {
                wt_error("no memory left");
                return;
            }
            memset(block, 1, 1 << 20);
            newest = block;
        }
    }
}
""",
    "zig": r"""
const std = @import("std");
const wt = @import("wasmtask");

var spins: u64 = 0;

pub fn handle(req: *wt.Request) !wt.Response {
    const which = req.query("case") orelse "";
    if (std.mem.eql(u8, which, "log")) {
        wt.log(.warn, "careful", .{});
        return wt.Response.json(req.allocator, true);
    } else if (std.mem.eql(u8, which, "body")) {
        return wt.Response.json(req.allocator, req.body() orelse "");
    } else if (std.mem.eql(u8, which, "response")) {
        const body = try std.fmt.allocPrint(req.allocator, "created by {s}", .{req.method()});
        return wt.Response.text(201, "text/plain", body);
    } else if (std.mem.eql(u8, which, "fetch")) {
        const response = try wt.fetch(req.allocator, .{ .url = req.query("url") orelse "" });
        return wt.Response.json(req.allocator, .{ .status = response.status, .body = response.body });
    } else if (std.mem.eql(u8, which, "fetch_denied")) {
        const response = try wt.fetch(req.allocator, .{ .url = "http://denied.test/" });
        return wt.Response.json(req.allocator, response.error_code);
    } else if (std.mem.eql(u8, which, "fail")) {
        return wt.Response.fail("bad input");
    } else if (std.mem.eql(u8, which, "loop")) {
        while (true) @as(*volatile u64, &spins).* += 1;
    } else if (std.mem.eql(u8, which, "bomb")) {
        while (true) {
            const block = try req.allocator.alloc(u8, 1 << 20);
            @memset(block, 1);
        }
    }
    return wt.Response.json(req.allocator, null);
}
""",
    "rust": r"""
use wasmtask::json::quote;
use wasmtask::{Request, Response};

fn handle(req: &Request) -> Result<Response, String> {
    match req.query("case").unwrap_or("") {
        "log" => {
            wasmtask::log(wasmtask::WARN, "careful");
            Ok(Response::json("true"))
        }
        "body" => Ok(Response::json(quote(req.body().unwrap_or("")))),
        "response" => Ok(Response::text(201, "text/plain", format!("created by {}", req.method()))),
        "fetch" => {
            let response = wasmtask::fetch_get(req.query("url").unwrap_or(""));
            let status = response.get("status").and_then(|s| s.as_f64()).unwrap_or(0.0);
            let body = response.get("body").and_then(|b| b.as_str()).unwrap_or("");
            Ok(Response::json(format!("{{\"status\":{},\"body\":{}}}", status, quote(body))))
        }
        "fetch_denied" => {
            let response = wasmtask::fetch_get("http://denied.test/");
            let code = response.get("error").and_then(|e| e.get("code")).and_then(|c| c.as_str()).unwrap_or("");
            Ok(Response::json(quote(code)))
        }
        "fail" => Err("bad input".to_string()),
        "loop" => {
            let mut spins: u64 = 0;
            loop {
                let next = spins + 1;
                unsafe { std::ptr::write_volatile(&mut spins, next) };
            }
        }
        "bomb" => {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            loop {
                blocks.push(vec![1u8; 1 << 20]);
            }
        }
        _ => Ok(Response::json("null")),
    }
}

wasmtask::entry!(handle);
""",
    "assemblyscript": r"""
import { JSON, Request, Response, Level, log, fetchGet } from "./wasmtask";

let spins = 0;

export function handle(req: Request): Response {
  const query = req.query("case");
  const which = query === null ? "" : query;
  if (which == "log") {
    log("careful", Level.Warn);
    return Response.json("true");
  } else if (which == "body") {
    const body = req.body;
    return Response.json(JSON.quote(body === null ? "" : body));
  } else if (which == "response") {
    return Response.text("created by " + req.method, 201, "text/plain");
  } else if (which == "fetch") {
    const url = req.query("url");
    const response = fetchGet(url === null ? "" : url);
    const body = JSON.getString(response, "body");
    return Response.json(`{"status":${JSON.getNumber(response, "status")},"body":${JSON.quote(body === null ? "" : body)}}`);
  } else if (which == "fetch_denied") {
    const code = JSON.getString(fetchGet("http://denied.test/"), "error.code");
    return Response.json(JSON.quote(code === null ? "" : code));
  } else if (which == "fail") {
    return Response.error("bad input");
  } else if (which == "loop") {
    while (true) spins++;
  } else if (which == "bomb") {
    const blocks = new Array<ArrayBuffer>();
    while (true) blocks.push(new ArrayBuffer(1 << 20));
  }
  return Response.json("null");
}
""",
    "python": r"""
import wasmtask


def handle(request):
    which = request.query.get("case", "")
    if which == "log":
        wasmtask.log.warn("careful")
        return True
    if which == "body":
        return request.text
    if which == "response":
        return wasmtask.Response(f"created by {request.method}", status=201, headers={"content-type": "text/plain"})
    if which == "fetch":
        response = wasmtask.fetch(request.query["url"])
        return {"status": response.status, "body": response.text}
    if which == "fetch_denied":
        try:
            wasmtask.fetch("http://denied.test/")
        except wasmtask.FetchError as error:
            return error.code
    if which == "fail":
        raise ValueError("bad input")
    if which == "loop":
        while True:
            pass
    if which == "bomb":
        blocks = []
        while True:
            blocks.append(bytearray(1 << 20))
    return None
""",
}

BROKEN = {
    "c": ("void handle(const char *request) { return 1 }", "main.c"),
    "zig": ("const wt = @import(\"wasmtask\");\npub fn handle(req: *wt.Request) !wt.Response { return nothing; }", "main.zig"),
    "rust": ("fn handle(req: &wasmtask::Request) -> Result<wasmtask::Response, String> { Ok(1) }\nwasmtask::entry!(handle);", "main.rs"),
    "assemblyscript": ("import { Request, Response } from \"./wasmtask\";\nexport function handle(req: Request): Response { return 1; }", "index.ts"),
    "python": ("def handle(request)\n    return 1\n", "SyntaxError"),
}

# Rust and AssemblyScript cannot catch an allocation failure: they trap. The host maps
# a trap to guest_error unless it learns that a trap at the memory cap means memory_limit.
TRAPS_ON_OUT_OF_MEMORY = {"assemblyscript"}  # its stub runtime traps at `unreachable`, with no hook to say why


def case(language: str, name: str, **request: object) -> object:
    request.setdefault("query", [("case", name)])
    return run(language, GUESTS[language], **request)


@pytest.mark.parametrize("language", LANGUAGES)
def test_example_answers_json_and_logs(language: str) -> None:
    path, line = EXAMPLES[language]
    result = run(language, (REPO / path).read_text(), method="POST", query=[("name", "Ada")])
    assert result.kind == "json"
    assert result.value == {"hello": "Ada", "method": "POST", "language": language}
    assert [(r.level, r.msg) for r in result.logs] == [("info", line)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_logs_at_a_level(language: str) -> None:
    result = case(language, "log")
    assert result.value is True
    assert [(r.level, r.msg) for r in result.logs] == [("warn", "careful")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_reads_the_body(language: str) -> None:
    result = case(language, "body", method="POST", body='{"x": "é\\n"}'.encode())
    assert result.value == '{"x": "é\\n"}'


@pytest.mark.parametrize("language", LANGUAGES)
def test_returns_an_http_response(language: str) -> None:
    result = case(language, "response", method="PUT")
    assert (result.kind, result.status, result.body) == ("response", 201, b"created by PUT")
    assert ("content-type", "text/plain") in result.headers


@pytest.mark.parametrize("language", LANGUAGES)
def test_fetches_through_the_host(language: str) -> None:
    result = case(language, "fetch", query=[("case", "fetch"), ("url", upstream_url("/data"))])
    assert result.value == {"status": 200, "body": "upstream saw GET /data"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_sees_a_refused_fetch_as_an_error_code(language: str) -> None:
    assert case(language, "fetch_denied").value == "egress_denied"


@pytest.mark.parametrize("language", LANGUAGES)
def test_reported_error_is_guest_error(language: str) -> None:
    error = expect_error(language, GUESTS[language], "guest_error", query=[("case", "fail")])
    assert "bad input" in error.message


@pytest.mark.parametrize("language", LANGUAGES)
def test_loop_is_cpu_limit(language: str) -> None:
    limits = LIMITS.with_overrides(fuel=50_000_000)
    error = expect_error(language, GUESTS[language], "cpu_limit", limits=limits, query=[("case", "loop")])
    assert error.fuel_used == limits.fuel


@pytest.mark.parametrize("language", LANGUAGES)
def test_allocation_bomb_is_memory_limit(language: str) -> None:
    with pytest.raises(IsolateError) as caught:
        run(language, GUESTS[language], query=[("case", "bomb")])
    if caught.value.code == "guest_error" and language in TRAPS_ON_OUT_OF_MEMORY:
        pytest.xfail(f"{language} traps when out of memory without calling wasmtask.out_of_memory first")
    assert caught.value.code == "memory_limit", caught.value
    if language == "rust":  # the SDK's allocator logs, calls out_of_memory, then Rust aborts (a trap)
        assert "out of memory: an allocation of 1048576 bytes failed (memory limit)" in [r.msg for r in caught.value.logs]


@pytest.mark.parametrize("language", LANGUAGES)
def test_next_call_after_a_bomb_is_fresh(language: str) -> None:
    with pytest.raises(IsolateError):
        case(language, "bomb")
    assert case(language, "log").value is True


@pytest.mark.parametrize("language", LANGUAGES)
def test_compile_error_is_invalid_code_with_the_message(language: str) -> None:
    require_toolchain(language)
    source, expected = BROKEN[language]
    with pytest.raises(Exception) as caught:
        prepare(language, source, Limits(), compiler=Toolchains())
    assert getattr(caught.value, "code", None) == "invalid_code", caught.value
    assert expected in str(caught.value)
    assert "/tmp/" not in str(caught.value)  # the build's temp dir is not shown
