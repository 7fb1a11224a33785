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

Errors travel as the codes of the exceptions the local classes raise, and
``BuilderClient`` raises the same classes: a deploy fails the same way whether
its build ran here or in the gateway's own process.

``python -m toolchains.builder --socket PATH`` runs one; it reads its key from
the first line of stdin and exits when stdin closes (its parent ended), so it
never outlives the server that started it. ``BuilderProcess`` starts one.
"""

from __future__ import annotations

import argparse
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
from typing import Any

from isolates.compiler import CompiledGuest
from isolates.errors import CpuLimitExceeded, InvalidCode, IsolateError, ToolchainUnavailable
from toolchains import Toolchains
from toolchains.base import BuildError, BuildKilled, BuildTimedOut, ToolchainMissing, log_build
from toolchains.bundler import Bundle, default_bundler
from toolchains.sandbox import PASSED_ENVIRONMENT
from toolchains.source_files import SourceFiles, SourceFilesError

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
    """Answers requests on ``address`` until ``stop``; one thread per connection."""

    def __init__(self, address: str, authkey: bytes) -> None:
        self.listener = Listener(address, family="AF_UNIX", authkey=authkey)
        self.toolchains = Toolchains(progress=log_build)

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

    def reachable(self) -> str | None:
        """Why the builder cannot be reached, or None when it answers a connection."""
        try:
            with Client(self.address, family="AF_UNIX", authkey=self.authkey):
                return None
        except (OSError, EOFError, ValueError, AuthenticationError) as exc:
            return f"unreachable ({type(exc).__name__})"


# starting one


@dataclass
class BuilderProcess:
    """A running builder, child of this process: ``stop`` (or this process's end) ends it."""

    process: subprocess.Popen[bytes]
    directory: Path

    @classmethod
    def start(cls) -> BuilderProcess:
        """Start a builder on a socket in a new private directory; returns when it accepts connections."""
        directory = Path(tempfile.mkdtemp(prefix="wasmtask-builder-"))  # 0700; short enough for a socket path
        authkey = secrets.token_bytes(32)
        key_file = directory / KEY_NAME
        key_file.touch(mode=0o600)
        key_file.write_bytes(authkey)
        environment = {name: value for name, value in os.environ.items()
                       if name in PASSED_ENVIRONMENT or name in BUILD_VARIABLES}
        process = subprocess.Popen(
            [sys.executable, "-m", "toolchains.builder", "--socket", str(directory / SOCKET_NAME)],
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    authkey = bytes.fromhex(sys.stdin.readline().strip())
    server = BuilderServer(args.socket, authkey)
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
