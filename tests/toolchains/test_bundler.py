"""Bundling JavaScript at deploy: several files and the platform's npm set into one module, run by the real runtime.

Needs esbuild and the npm set (`make toolchains`): skipped locally without them, failed in CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvalidCode, InvokeResult, Limits, ToolchainUnavailable, prepare, run
from tests.toolchains.support import require_bundler
from toolchains import landlock
from toolchains.bundler import Bundler, javascript_source, needs_bundling
from toolchains.source_files import SourceFiles, source_files


@pytest.fixture
def bundler(tmp_path: Path) -> Bundler:
    require_bundler()
    return Bundler(cache_dir=tmp_path / "bundles")


# A bundle's libraries are compiled at deploy like any top-level code, metered (~600 fuel a byte,
# more while the runtime scans the source for lazy-module hints): more than the default 200 M for some.
LIMITS = Limits(fuel=1_000_000_000)


def call(source: str, **request: Any) -> InvokeResult:
    limits = LIMITS
    return run(prepare("javascript", source, limits, snapshot=True), guest_request(**request), CallSpec(limits=limits))


def bundled(bundler: Bundler, files: dict[str, str], entry: str | None = None) -> str:
    return javascript_source(source_files(files, entry).encode(), bundler=bundler)


def text_of(result: InvokeResult) -> str:
    assert result.kind == "response", result
    return result.body.decode()


def test_one_file_without_imports_is_not_bundled(tmp_path: Path) -> None:
    source = "export default { fetch() { return new Response('hi') } };\n"
    nowhere = Bundler(root=tmp_path / "no-toolchains")  # would fail if it were asked to bundle
    assert javascript_source(source.encode(), bundler=nowhere) == source
    assert not needs_bundling("module.exports = function (cb) { cb(null, 'import x from y') };")
    for importing in ('import { z } from "zod";', "import 'x';", 'export * from "./a.js";',
                      "const m = await import('./m.js');", 'const _ = require("lodash-es");',
                      'import{a}from"./a.js"'):
        assert needs_bundling(importing), importing
    with pytest.raises(ToolchainUnavailable, match="make toolchains"):
        javascript_source(b'import { z } from "zod";', bundler=nowhere)


def test_several_files_run_as_one_module(bundler: Bundler) -> None:
    source = bundled(bundler, {
        "index.js": 'import { greet } from "./lib/greet.js";\nimport config from "./config.json";\n'
                    "export default { fetch(request) { return new Response(greet(config.name)); } };\n",
        "lib/greet.js": 'export function greet(name) { return "hello, " + name; }\n',
        "config.json": '{"name": "bundle"}',
    })
    assert text_of(call(source)) == "hello, bundle"


def test_a_webtask_script_with_require_keeps_its_shape(bundler: Bundler) -> None:
    source = bundled(bundler, {
        "index.js": 'var util = require("./util");\nreturn function (cb) { cb(null, { sum: util.add(2, 3) }); };\n',
        "util.js": "exports.add = function (a, b) { return a + b; };\n",
    })
    result = call(source)
    assert result.kind == "json" and result.value == {"sum": 5}


def test_a_package_of_the_set_is_imported_and_validates_at_call_time(bundler: Bundler) -> None:
    source = bundled(bundler, {"index.js": """
import { z } from "zod";
import { nanoid } from "nanoid";
const User = z.object({ name: z.string().min(2) });
export default {
  async fetch(request) {
    const parsed = User.safeParse(await request.json());
    return Response.json({ ok: parsed.success, id: nanoid().length });
  },
};
"""})
    good = call(source, method="POST", body=b'{"name": "ada"}')
    bad = call(source, method="POST", body=b'{"name": 1}')
    assert json.loads(good.body) == {"ok": True, "id": 21}
    assert json.loads(bad.body) == {"ok": False, "id": 21}


def test_a_module_outside_the_set_is_named_with_what_the_platform_provides(bundler: Bundler) -> None:
    with pytest.raises(InvalidCode) as raised:
        bundled(bundler, {"index.js": 'import leftPad from "left-pad";\nexport default leftPad;\n'})
    message = raised.value.message
    assert "index.js:1:21: module 'left-pad' is not available: the platform provides the npm packages" in message
    assert "zod" in message and "node:buffer" in message


def test_a_node_builtin_the_sandbox_lacks_is_named(bundler: Bundler) -> None:
    with pytest.raises(InvalidCode, match="module 'node:fs' is not available: the sandbox provides"):
        bundled(bundler, {"index.js": 'import fs from "node:fs";\nexport default fs;\n'})


def test_a_syntax_error_names_file_line_and_column(bundler: Bundler) -> None:
    with pytest.raises(InvalidCode) as raised:
        bundled(bundler, {
            "index.js": 'import { x } from "./lib/x.js";\nexport default { fetch() { return new Response(x) } };\n',
            "lib/x.js": "export const x = (1 +;\n",
        })
    assert 'lib/x.js:1:22: Unexpected ";"' in raised.value.message


def test_node_buffer_util_path_events_and_crypto_shims(bundler: Bundler) -> None:
    source = bundled(bundler, {"index.js": """
import { Buffer } from "node:buffer";
import { format, promisify } from "node:util";
import path from "node:path";
import { EventEmitter } from "node:events";
import { createHash, createHmac, timingSafeEqual, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
export default {
  async fetch() {
    const emitter = new EventEmitter();
    let heard = null;
    emitter.on("ping", (value) => { heard = value; });
    emitter.emit("ping", 42);
    const later = await promisify((x, cb) => cb(null, x * 2))(21);
    return Response.json({
      base64: Buffer.from("hello").toString("base64"),
      global: typeof Buffer.concat,
      format: format("%s=%d %j", "a", 1, { b: 2 }),
      path: path.join("/a/b", "../c", "d.js"),
      heard, later,
      sha256: createHash("sha256").update("abc").digest("hex"),
      hmac: createHmac("sha256", "key").update("The quick brown fox jumps over the lazy dog").digest("hex"),
      equal: timingSafeEqual(Buffer.from("ab"), Buffer.from("ab")),
      random: randomBytes(8).length,
      file: fileURLToPath("file:///tmp/x%20y.js"),
    });
  },
};
"""})
    assert json.loads(call(source).body) == {
        "base64": "aGVsbG8=", "global": "function", "format": 'a=1 {"b":2}', "path": "/a/c/d.js",
        "heard": 42, "later": 42,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "hmac": "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        "equal": True, "random": 8, "file": "/tmp/x y.js",
    }


def test_the_global_buffer_is_there_when_a_file_uses_it(bundler: Bundler) -> None:
    source = bundled(bundler, {"index.js": 'module.exports = (cb) => cb(null, Buffer.from("hi").toString("hex"));\n'})
    assert call(source).value == "6869"


def test_a_second_bundle_of_the_same_files_comes_from_the_cache(bundler: Bundler) -> None:
    files = source_files({"index.js": 'import { v4 } from "uuid";\nexport default { fetch() { return new Response(v4()) } };'})
    first, second = bundler.bundle(files), bundler.bundle(files)
    assert (first.cached, second.cached) == (False, True) and first.source == second.source
    assert bundler.bundle(SourceFiles(files.entry, {files.entry: files.files[files.entry] + "\n"})).key != first.key


def test_a_file_outside_the_tree_is_never_bundled(bundler: Bundler, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"key": "hunter2"}')
    files = {"index.js": f'import s from "{secret}";\nexport default {{ fetch() {{ return Response.json(s) }} }};\n'}
    with pytest.raises(InvalidCode) as confined:  # Landlock stops esbuild reading it
        bundled(bundler, files)
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)  # a kernel without Landlock: the metafile check
    with pytest.raises(InvalidCode) as unconfined:
        bundled(bundler, files)
    for raised in (confined, unconfined):
        assert "outside the function's own files" in raised.value.message
        assert "hunter2" not in raised.value.message
