"""The builder: a process of its own that runs the deploy-time compilers and esbuild for serving processes.

A serving process confines itself after boot (gateway/confinement): it may not
exec, fork or read the toolchains. Builds need all three, so ``wasmtask serve``
starts this process first, and serving processes reach it over a unix socket:
``BuilderClient`` is the ``isolates.compiler.Compiler`` (and the bundler of
``toolchains.bundler.javascript_source``) that the gateway uses then. The
builder runs ``Toolchains`` and ``Bundler`` exactly as an unconfined gateway
does: each compiler in its own prlimit'ed, Landlock-confined subprocess, outputs
cached by content hash.

Protocol: ``multiprocessing.connection`` (length-prefixed messages, an HMAC
challenge with a random key only the serving side knows), bytes only: never
pickle, since a confined serving process is not trusted to run code here. A
request is two messages, a JSON header and a payload; so is an answer::

    {"op": "compile", "language": "rust", "filename": "lib.rs"}  + source (UTF-8)
    {"op": "bundle"}                                             + SourceFiles.encode()
    {"ok": true, "key": "...", "cached": false}                  + Wasm bytes, or the bundle (UTF-8)
    {"ok": false, "error": "invalid_code", "message": "..."}     + b""
    {"op": "artifact", "action": "stage", "fingerprint": ..., "tenant": ..., "function": ...}
                                                                 + an image module's Wasm
    {"ok": true, "staged": {"name": ..., "size": ..., "crc32": ...}}  + b""
    {"op": "cache", "kind": "module" | "component", "fingerprint": ...}  + Wasm bytes
    {"ok": true, "name": "<sha256>.cwasm"}                       + b""

The artifact ops write the prepared programs' files (gateway/artifact_files.py):
serving processes may only read ``<data dir>/artifacts``, which is fixed here
when the builder starts (``--artifacts``), never named by a request. A staged
image arrives as Wasm and is compiled here, by an engine of the serving
processes' settings (a fingerprint of other settings is refused) after a check
that it is an image (a memory and its data: no code, no imports), so what a
serving process can put in a .cwasm is at most a Wasm memory image.
``BuilderArtifactWriter`` is the serving side's ``ArtifactWriter``.

The cache op fills the module cache (isolates/module_cache.py), which serving
processes may only read too: the builder compiles the Wasm it is sent (a
module or a component) with its own engine (a fingerprint of other settings is
refused), names the file from those bytes and that engine's fingerprint
itself, writes it atomically into its ``default_cache_dir()`` (the serving
processes', from the same ``WASMTASK_CACHE_DIR``) and answers the name, which
the serving process then maps. ``BuilderCacheWriter`` is the serving side's
``CacheWriter``.

Errors travel as the codes of the exceptions the local classes raise, and
``BuilderClient`` raises the same classes: a deploy fails the same way whether
its build ran here or in the gateway's own process.

``python -m toolchains.builder --socket PATH`` runs one; it reads its key from
the first line of stdin and exits when stdin closes (its parent ended), so it
never outlives the server that started it. ``BuilderProcess`` starts one.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isolates.compiler import CompiledGuest
from isolates.engine import Engine
from isolates.errors import CpuLimitExceeded, InvalidCode, IsolateError, ToolchainUnavailable
from isolates.module_cache import KINDS, CacheRefused, Kind, LocalCacheWriter, default_cache_dir
from toolchains import Toolchains
from toolchains.base import BuildError, BuildKilled, BuildTimedOut, ToolchainMissing, log_build
from toolchains.bundler import Bundle, default_bundler
from toolchains.sandbox import PASSED_ENVIRONMENT
from toolchains.source_files import SourceFiles, SourceFilesError

if TYPE_CHECKING:  # imported where used: a builder that writes no artifacts never loads the gateway's modules
    from gateway.artifact_files import Image, LocalArtifactWriter, StagedFile

logger = logging.getLogger("wasmtask.builder")

SOCKET_NAME = "builder.sock"
KEY_NAME = "builder.key"
ANSWER_TIMEOUT_S = 600.0  # longer than any build's own limit (60 s, Python 120 s): a hung builder, not a slow build
START_TIMEOUT_S = 30.0
MAX_HEADER_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 64 << 20
# The builder's environment: what locates the tools and their caches, none of the server's keys.
BUILD_VARIABLES = ("WASMTASK_CACHE_DIR", "WASMTASK_BUILD_DIR", "WASMTASK_TOOLCHAINS_DIR", "WASMTASK_BUILD_TIMEOUT_S",
                   "WASMTASK_RUSTC", "WASMTASK_NPM_PACKAGES", "WASMTASK_JS_RUNTIME", "VIRTUAL_ENV", "PYTHONPATH")

# exception class <-> the code on the wire
COMPILE_ERRORS: dict[str, type[IsolateError]] = {
    InvalidCode.code: InvalidCode, CpuLimitExceeded.code: CpuLimitExceeded, ToolchainUnavailable.code:
    ToolchainUnavailable,
}
BUNDLE_ERRORS: dict[str, type[Exception]] = {
    "build_error": BuildError, "build_killed": BuildKilled, "timed_out": BuildTimedOut,
    "toolchain_missing": ToolchainMissing,
}


class BuilderUnavailable(ToolchainUnavailable):
    """The builder process does not answer: no build can run until it is back."""


# the server


class BuilderServer:
    """Answers requests on ``address`` until ``stop``; one thread per connection. ``artifacts``: the
    directory of the prepared programs' files it writes (None: it writes none)."""

    def __init__(self, address: str, authkey: bytes, artifacts: Path | None = None) -> None:
        self.listener = Listener(address, family="AF_UNIX", authkey=authkey)
        self.toolchains = Toolchains(progress=log_build)
        self.artifacts = artifacts
        self._writer: LocalArtifactWriter | None = None
        self._engine: Engine | None = None
        self._engine_fingerprint = ""
        self._writer_lock = threading.Lock()

    def serve_forever(self) -> None:
        while True:
            try:
                connection = self.listener.accept()
            except OSError:  # closed by stop()
                return
            except Exception as exc:  # a failed HMAC challenge (AuthenticationError), a peer gone
                logger.warning("builder: refused a connection: %s", exc)
                continue
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()

    def stop(self) -> None:
        self.listener.close()

    def handle(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    header = json.loads(connection.recv_bytes(MAX_HEADER_BYTES))
                    payload = connection.recv_bytes(MAX_PAYLOAD_BYTES)
                except (EOFError, OSError, ValueError):
                    return
                answer, data = self.answer(header, payload)
                try:
                    connection.send_bytes(json.dumps(answer).encode())
                    connection.send_bytes(data)
                except OSError:
                    return

    def answer(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        op = header.get("op")
        try:
            if op == "compile":
                compiled = self.toolchains.compile(str(header.get("language")), payload.decode("utf-8"),
                                                   header.get("filename"))
                return {"ok": True, "key": compiled.key}, compiled.wasm
            if op == "bundle":
                files = SourceFiles.decode(payload)
                if files is None:
                    raise BuildError("the builder got no source files to bundle")
                bundle = default_bundler().bundle(files)
                return {"ok": True, "key": bundle.key, "cached": bundle.cached}, bundle.source.encode("utf-8")
            if op == "artifact":
                return self.artifact(header, payload)
            if op == "cache":
                return self.cache(header, payload)
            return {"ok": False, "error": "bad_request", "message": f"unknown op {op!r}"}, b""
        except IsolateError as exc:
            return {"ok": False, "error": exc.code, "message": exc.message}, b""
        except BuildTimedOut as exc:
            return {"ok": False, "error": "timed_out", "message": str(exc), "seconds": exc.seconds}, b""
        except (BuildError, ToolchainMissing) as exc:
            code = next(code for code, cls in reversed(BUNDLE_ERRORS.items()) if isinstance(exc, cls))
            return {"ok": False, "error": code, "message": str(exc)}, b""
        except (SourceFilesError, UnicodeDecodeError) as exc:
            return {"ok": False, "error": "build_error", "message": str(exc)}, b""

    def writer(self) -> LocalArtifactWriter:
        """The artifacts' writer, and its engine: made at the first artifact op (a builder that writes none
        reserves no engine)."""
        from gateway.artifact_files import ArtifactRefused, LocalArtifactWriter

        if self.artifacts is None:
            raise ArtifactRefused(errno.EPERM, "this builder writes no prepared programs (started without --artifacts)")
        engine = self.engine()
        with self._writer_lock:
            if self._writer is None:
                self._writer = LocalArtifactWriter(self.artifacts, compile_with=engine.wasmtime)
            return self._writer

    def engine(self) -> Engine:
        """The engine it compiles with, made at the first op that compiles (a builder that compiles no
        Wasm reserves none)."""
        with self._writer_lock:
            if self._engine is None:
                engine = Engine()  # the serving processes' settings (EngineSettings' defaults), so theirs map its code
                engine.ticker.stop()  # it compiles, never runs
                self._engine_fingerprint = engine.settings.fingerprint()
                self._engine = engine
            return self._engine

    def cache(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        """Compile ``payload`` (Wasm) into the module cache, under the name its bytes and this builder's
        engine make; answers that name."""
        import wasmtime

        kind = header.get("kind")
        if kind not in KINDS:
            return {"ok": False, "error": "bad_request", "message": f"unknown kind {str(kind)[:40]!r}"}, b""
        engine = self.engine()
        fingerprint = str(header.get("fingerprint"))
        if fingerprint != self._engine_fingerprint:
            return {"ok": False, "error": "cache_refused", "message": f"an engine of other settings "
                    f"({fingerprint[:200]!r}), not {self._engine_fingerprint!r}"}, b""
        if not payload.startswith(b"\0asm"):
            return {"ok": False, "error": "invalid_wasm", "message": "not a Wasm binary"}, b""
        writer = LocalCacheWriter(engine.wasmtime, default_cache_dir())
        checked: Kind = "module" if kind == "module" else "component"
        try:
            compiled = writer.compile(checked, payload)
        except wasmtime.WasmtimeError as exc:
            return {"ok": False, "error": "invalid_wasm", "message": str(exc).splitlines()[0]}, b""
        try:
            name = writer.store(checked, payload, self._engine_fingerprint, compiled)
        except OSError as exc:
            return {"ok": False, "error": "cache_refused", "message": f"not written: {exc}"}, b""
        return {"ok": True, "name": name}, b""

    def artifact(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        """One ``ArtifactWriter`` call (gateway/artifact_files.py), its paths made from the names it is given."""
        from gateway.errors import StorageFull

        try:
            return self._artifact(header, payload)
        except StorageFull as exc:
            return {"ok": False, "error": exc.code, "message": exc.message}, b""
        except (OSError, ValueError, TypeError) as exc:  # refused, the disk's, or a malformed request
            return {"ok": False, "error": "artifact_refused", "message": str(exc)}, b""

    def _artifact(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        from gateway.artifact_files import ArtifactRefused, Image

        writer = self.writer()
        action = header.get("action")
        tenant, function = str(header.get("tenant")), str(header.get("function"))
        fingerprint = str(header.get("fingerprint"))
        if action in ("make_lock", "stage", "copy", "publish", "discard", "remove_version", "prune_engines") and \
                not fingerprint.startswith(self._engine_fingerprint + ";"):
            raise ArtifactRefused(errno.EINVAL, f"an engine of other settings ({fingerprint[:200]!r}), not "
                                                f"{self._engine_fingerprint!r}")
        if action == "stage":
            staged = writer.stage(fingerprint, tenant, function, Image(None, payload))
            return {"ok": True, "staged": vars_of(staged)}, b""
        if action == "copy":
            staged = writer.copy(fingerprint, tenant, function, int(header.get("serial", -1)))
            return {"ok": True, "staged": vars_of(staged)}, b""
        if action == "publish":
            writer.publish(fingerprint, tenant, function, int(header.get("serial", -1)), str(header.get("staged")),
                           payload)
        elif action == "discard":
            writer.discard(fingerprint, tenant, function, str(header.get("staged")))
        elif action == "remove_version":
            writer.remove_version(fingerprint, tenant, function, int(header.get("serial", -1)))
        elif action == "make_lock":
            writer.make_lock(fingerprint, tenant, function)
        elif action == "remove_function":
            writer.remove_function(tenant, function)
        elif action == "remove_tenant":
            writer.remove_tenant(tenant)
        elif action == "prune_engines":
            return {"ok": True, "removed": writer.prune_engines(fingerprint)}, b""
        else:
            return {"ok": False, "error": "bad_request", "message": f"unknown artifact action {action!r}"}, b""
        return {"ok": True}, b""



# the client


class BuilderClient:
    """A ``Compiler`` (and a bundler for ``javascript_source``) whose builds run in the builder process."""

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey

    @classmethod
    def from_directory(cls, directory: Path) -> BuilderClient:
        """The client of the builder whose socket and key are in ``directory`` (read now: before confinement)."""
        return cls(str(directory / SOCKET_NAME), (directory / KEY_NAME).read_bytes())

    def request(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        try:
            with Client(self.address, family="AF_UNIX", authkey=self.authkey) as connection:
                connection.send_bytes(json.dumps(header).encode())
                connection.send_bytes(payload)
                if not connection.poll(ANSWER_TIMEOUT_S):
                    raise BuilderUnavailable(f"the builder did not answer in {ANSWER_TIMEOUT_S:g} s")
                answer = json.loads(connection.recv_bytes(MAX_HEADER_BYTES))
                data = connection.recv_bytes(MAX_PAYLOAD_BYTES)
        except (OSError, EOFError, ValueError, AuthenticationError) as exc:
            raise BuilderUnavailable(f"the builder process is unreachable ({type(exc).__name__}: {exc}); "
                                     "builds fail until the server restarts") from exc
        return answer, data

    def compile(self, language: str, source: str, filename: str | None = None) -> CompiledGuest:
        answer, data = self.request({"op": "compile", "language": language, "filename": filename},
                                    source.encode("utf-8"))
        if not answer.get("ok"):
            error = COMPILE_ERRORS.get(str(answer.get("error")), ToolchainUnavailable)
            raise error(str(answer.get("message")))
        return CompiledGuest(wasm=data, key=str(answer["key"]))

    def bundle(self, files: SourceFiles) -> Bundle:
        """``Bundler.bundle``, in the builder: raises BuildError, BuildTimedOut, ToolchainMissing."""
        answer, data = self.request({"op": "bundle"}, files.encode())
        if not answer.get("ok"):
            code = str(answer.get("error"))
            if code == "timed_out":
                raise BuildTimedOut(float(answer.get("seconds", 0)))
            raise BUNDLE_ERRORS.get(code, ToolchainMissing)(str(answer.get("message")))
        return Bundle(data.decode("utf-8"), str(answer["key"]), bool(answer.get("cached")), 0.0)

    def artifact_writer(self) -> BuilderArtifactWriter:
        """The ``ArtifactWriter`` whose files this builder writes."""
        return BuilderArtifactWriter(self)

    def cache_writer(self) -> BuilderCacheWriter:
        """The ``CacheWriter`` (isolates/module_cache.py) whose files this builder writes."""
        return BuilderCacheWriter(self)

    def reachable(self) -> str | None:
        """Why the builder cannot be reached, or None when it answers a connection."""
        try:
            with Client(self.address, family="AF_UNIX", authkey=self.authkey):
                return None
        except (OSError, EOFError, ValueError, AuthenticationError) as exc:
            return f"unreachable ({type(exc).__name__})"


class BuilderArtifactWriter:
    """The ``ArtifactWriter`` (gateway/artifact_files.py) of a serving process: the builder writes.
    Its refusals, and the builder's absence, are ``ArtifactRefused`` (an ``OSError``); a full disk
    there is ``StorageFull``."""

    def __init__(self, client: BuilderClient) -> None:
        self.client = client

    def _call(self, action: str, payload: bytes = b"", **fields: object) -> dict[str, Any]:
        from gateway.artifact_files import ArtifactRefused
        from gateway.errors import StorageFull

        try:
            answer, _ = self.client.request({"op": "artifact", "action": action, **fields}, payload)
        except BuilderUnavailable as exc:
            raise ArtifactRefused(errno.EAGAIN, exc.message) from exc
        if not answer.get("ok"):
            if answer.get("error") == StorageFull.code:
                raise StorageFull(str(answer.get("message")))
            raise ArtifactRefused(errno.EPERM, f"the builder refused {action}: {answer.get('message')}")
        return answer

    def _staged(self, answer: dict[str, Any]) -> StagedFile:
        from gateway.artifact_files import StagedFile

        staged = answer["staged"]
        return StagedFile(str(staged["name"]), int(staged["size"]), int(staged["crc32"]))

    def make_lock(self, fingerprint: str, tenant: str, function: str) -> None:
        self._call("make_lock", fingerprint=fingerprint, tenant=tenant, function=function)

    def stage(self, fingerprint: str, tenant: str, function: str, image: Image) -> StagedFile:
        if len(image.wasm) > MAX_PAYLOAD_BYTES:
            from gateway.artifact_files import ArtifactRefused

            raise ArtifactRefused(errno.EFBIG, f"an image of {len(image.wasm):,} bytes: more than the builder takes")
        return self._staged(self._call("stage", image.wasm, fingerprint=fingerprint, tenant=tenant,
                                       function=function))

    def copy(self, fingerprint: str, tenant: str, function: str, serial: int) -> StagedFile:
        return self._staged(self._call("copy", fingerprint=fingerprint, tenant=tenant, function=function,
                                       serial=serial))

    def publish(self, fingerprint: str, tenant: str, function: str, serial: int, staged: str,
                header: bytes) -> None:
        self._call("publish", header, fingerprint=fingerprint, tenant=tenant, function=function, serial=serial,
                   staged=staged)

    def discard(self, fingerprint: str, tenant: str, function: str, staged: str) -> None:
        self._call("discard", fingerprint=fingerprint, tenant=tenant, function=function, staged=staged)

    def remove_version(self, fingerprint: str, tenant: str, function: str, serial: int) -> None:
        self._call("remove_version", fingerprint=fingerprint, tenant=tenant, function=function, serial=serial)

    def remove_function(self, tenant: str, function: str) -> None:
        self._call("remove_function", tenant=tenant, function=function)

    def remove_tenant(self, tenant: str) -> None:
        self._call("remove_tenant", tenant=tenant)

    def prune_engines(self, fingerprint: str) -> list[str]:
        return [str(name) for name in self._call("prune_engines", fingerprint=fingerprint).get("removed", [])]


class BuilderCacheWriter:
    """The ``CacheWriter`` (isolates/module_cache.py) of a serving process: the builder compiles and writes.
    Wasm it will not compile is a ``wasmtime.WasmtimeError``, as compiling here would be; its other refusals
    are ``CacheRefused``, its absence ``BuilderUnavailable``."""

    def __init__(self, client: BuilderClient) -> None:
        self.client = client

    def compile_into(self, kind: Kind, wasm: bytes, fingerprint: str) -> str:
        import wasmtime

        if len(wasm) > MAX_PAYLOAD_BYTES:
            raise CacheRefused(f"a {kind} of {len(wasm):,} bytes: more than the builder takes")
        answer, _ = self.client.request({"op": "cache", "kind": kind, "fingerprint": fingerprint}, wasm)
        if answer.get("ok"):
            return str(answer.get("name"))
        if answer.get("error") == "invalid_wasm":
            raise wasmtime.WasmtimeError(str(answer.get("message")))
        raise CacheRefused(f"the builder refused to compile a {kind}: {answer.get('message')}")


def vars_of(staged: StagedFile) -> dict[str, object]:
    return {"name": staged.name, "size": staged.size, "crc32": staged.crc32}


# starting one


@dataclass
class BuilderProcess:
    """A running builder, child of this process: ``stop`` (or this process's end) ends it."""

    process: subprocess.Popen[bytes]
    directory: Path

    @classmethod
    def start(cls, artifacts: Path | None = None) -> BuilderProcess:
        """Start a builder on a socket in a new private directory; returns when it accepts connections.
        ``artifacts``: the directory of the prepared programs' files it writes for serving processes."""
        directory = Path(tempfile.mkdtemp(prefix="wasmtask-builder-"))  # 0700; short enough for a socket path
        authkey = secrets.token_bytes(32)
        key_file = directory / KEY_NAME
        key_file.touch(mode=0o600)
        key_file.write_bytes(authkey)
        environment = {name: value for name, value in os.environ.items()
                       if name in PASSED_ENVIRONMENT or name in BUILD_VARIABLES}
        command = [sys.executable, "-m", "toolchains.builder", "--socket", str(directory / SOCKET_NAME)]
        if artifacts is not None:
            command += ["--artifacts", str(artifacts.resolve())]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(authkey.hex().encode() + b"\n")
        process.stdin.flush()
        ready = process.stdout.readline()  # the child answers "ready" or exits; its own time limit below
        if ready.strip() != b"ready":
            process.kill()
            process.wait()
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"the builder process did not start (exit status {process.poll()})")
        return cls(process, directory)

    def client(self) -> BuilderClient:
        return BuilderClient.from_directory(self.directory)

    def stop(self, timeout: float = 5.0) -> None:
        """Close its stdin (it exits at once); a kill only if it does not, and this process still may."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                self.process.kill()
                self.process.wait(timeout)
            except (PermissionError, subprocess.TimeoutExpired):  # a confined parent may not signal it
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="wasmtask's builder process (started by `wasmtask serve`)")
    parser.add_argument("--socket", required=True, help="the unix socket to listen on")
    parser.add_argument("--artifacts", type=Path, help="the prepared programs' directory it writes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    authkey = bytes.fromhex(sys.stdin.readline().strip())
    server = BuilderServer(args.socket, authkey, args.artifacts)
    os.chmod(args.socket, 0o600)

    def stop_on_eof() -> None:
        sys.stdin.read()  # returns when the parent closes stdin or ends
        shutil.rmtree(Path(args.socket).parent, ignore_errors=True)  # its parent may be confined: cannot
        os._exit(0)

    threading.Thread(target=stop_on_eof, daemon=True).start()
    print("ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
