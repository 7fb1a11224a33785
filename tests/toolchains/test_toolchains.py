"""The deploy-time build: a limited subprocess, a temp dir, a cache keyed by everything that went in;
``Toolchains``, isolates' Compiler, maps its failures to isolates' errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from isolates import IsolateError
from tests.toolchains.support import require_toolchain
from toolchains import TOOLCHAINS, BuildError, BuildLimits, BuildTimedOut, Toolchains, build, landlock
from toolchains.base import GUEST_SDK
from toolchains.sandbox import run_limited

HELLO_C = '#include "wasmtask.h"\nvoid handle(const char *request) { wt_return_json("1"); }\n'


def unique_c() -> str:
    """C source no cache has seen."""
    return HELLO_C + f"/* {uuid.uuid4()} */\n"


def test_second_build_of_the_same_source_is_served_from_the_cache(tmp_path: Path) -> None:
    require_toolchain("c")
    source = unique_c()
    first = build("c", source, tmp_path)
    second = build("c", source, tmp_path)
    assert (first.cached, second.cached) == (False, True)
    assert first.wasm == second.wasm and first.wasm.startswith(b"\0asm")
    assert build("c", source + "\n", tmp_path).key != first.key


def test_a_failed_build_is_remembered(tmp_path: Path) -> None:
    require_toolchain("c")
    source = unique_c().replace("wt_return_json", "no_such_function")
    with pytest.raises(BuildError) as first:
        build("c", source, tmp_path)
    started = time.monotonic()
    with pytest.raises(BuildError) as second:
        build("c", source, tmp_path)
    assert time.monotonic() - started < 0.5
    assert str(first.value) == str(second.value)
    assert "no_such_function" in str(second.value)


def test_build_over_its_time_limit_is_cpu_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_toolchain("c")
    monkeypatch.setenv("WASMTASK_BUILD_TIMEOUT_S", "0.01")
    with pytest.raises(IsolateError) as caught:
        Toolchains(tmp_path).compile("c", unique_c())
    assert caught.value.code == "cpu_limit"
    assert "time limit" in caught.value.message


def test_missing_toolchain_is_language_unavailable_naming_what_to_install(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMTASK_RUSTC", "/nonexistent/rustc")
    with pytest.raises(IsolateError) as caught:
        Toolchains(tmp_path).compile("rust", "fn main() {}")
    assert caught.value.code == "language_unavailable"
    assert "this server cannot build rust" in caught.value.message
    assert "apt-get install rustc" in caught.value.message and "make toolchains" in caught.value.message


def test_a_source_that_does_not_build_is_invalid_code_with_the_compilers_message(tmp_path: Path) -> None:
    require_toolchain("c")
    with pytest.raises(IsolateError) as caught:
        Toolchains(tmp_path).compile("c", unique_c().replace("wt_return_json", "no_such_function"))
    assert caught.value.code == "invalid_code"
    assert "no_such_function" in caught.value.message


def test_the_sdk_is_guest_sdk_next_to_this_package() -> None:
    assert (GUEST_SDK / "ABI.md").is_file()
    for toolchain in TOOLCHAINS.values():
        assert all(path.is_file() for path in toolchain.sdk_files()), toolchain.language


IMPORT_ALL = """
import importlib, pkgutil, sys
for package in ("isolates", "host_api"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.split(".")[0] in ("toolchains", "guest_sdk")))
"""


def test_isolates_imports_no_compiler() -> None:
    """isolates owns the Compiler interface; the toolchains implement it, never the other way round."""
    finished = subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"


def test_timeout_kills_the_compilers_children_too(tmp_path: Path) -> None:
    script = "sleep 30 & echo $! > child.pid; wait"
    started = time.monotonic()
    with pytest.raises(BuildTimedOut):
        run_limited(["sh", "-c", script], cwd=tmp_path, limits=BuildLimits(timeout_s=0.5))
    assert time.monotonic() - started < 5
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the compiler's child outlived the timeout"
        time.sleep(0.05)


def test_memory_limit_applies_to_the_compiler(tmp_path: Path) -> None:
    finished = run_limited(
        [sys.executable, "-c", "x = bytearray(512 << 20)"],
        cwd=tmp_path,
        limits=BuildLimits(memory_bytes=256 << 20, address_space_bytes=1 << 30),
    )
    assert finished.returncode != 0
    assert "MemoryError" in finished.output


def test_the_compiler_sees_none_of_the_servers_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMTASK_ADMIN_KEY", "do-not-leak")
    finished = run_limited(["env"], cwd=tmp_path, limits=BuildLimits())
    assert "do-not-leak" not in finished.output
    assert "PATH=" in finished.output


def test_make_toolchains_check_passes_here() -> None:
    """What `make toolchains` ends with: every toolchain present (in CI this must hold)."""
    for language in TOOLCHAINS:
        require_toolchain(language)
    finished = subprocess.run(
        [sys.executable, "-m", "toolchains", "--no-build"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ},
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.count(" ok ") == len(TOOLCHAINS)


def landlocked() -> None:
    if landlock.abi_version() < 1:
        pytest.skip("this kernel has no Landlock: builds are not confined (see toolchains/sandbox.py)")


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("c", '#include "{path}"\nvoid handle(const char *r) {{}}\n'),
        ("c", 'static const char secret[] = {{\n#embed "{path}"\n}};\nvoid handle(const char *r) {{ (void)secret; }}\n'),
        ("rust", 'const SECRET: &str = include_str!("{path}");\n'
                 'fn handle(_: &wasmtask::Request) -> Result<wasmtask::Response, String> {{ Err(SECRET.into()) }}\n'
                 "wasmtask::entry!(handle);\n"),
    ],
    ids=["c-include", "c-embed", "rust-include_str"],
)
def test_a_build_cannot_read_the_servers_files(tmp_path: Path, language: str, source: str) -> None:
    require_toolchain(language)
    landlocked()
    secret = tmp_path / "secret.txt"
    secret.write_text("server-secret-value\n")
    with pytest.raises(BuildError) as caught:  # unconfined, each of these builds and embeds the file
        build(language, source.format(path=secret), tmp_path / "cache")
    assert "server-secret-value" not in str(caught.value)


def test_a_build_cannot_read_proc(tmp_path: Path) -> None:
    require_toolchain("c")
    landlocked()
    with pytest.raises(BuildError):
        build("c", '#include "/proc/self/environ"\nvoid handle(const char *r) {}\n', tmp_path)
