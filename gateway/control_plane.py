"""The control plane: tenants and tokens, in a process of its own, on a listener of its own.

It is the only process that holds the Ed25519 signing key, and no guest code
ever runs in it (it serves no function route and loads no runtime). ``wasmtask serve`` starts it as a child
process (``python -m gateway.control_plane``) on ``--control-port`` (default: the
serving port + 1), bound to loopback unless told otherwise; the serving
processes answer its routes with ``control_plane_route`` (gateway/routes/tenants.py).

What it holds, and what it does not:

    signing key      yes: it issues tokens, and records each (jti, tenant, expiry) in the registry
    admin key        its SHA-256 digest only (gateway/identity/keys.py)
    secrets' key     no: it never reads a function's secrets. Its registry gets a throwaway
                     key, so a stray attempt to decrypt fails instead of reading them.
    registry         yes: tenants are created, deleted and tokens revoked here; every serving
                     worker learns of it from the change feed (gateway/service.py).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import http.client
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import anyio.to_thread
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import Settings
from gateway.errors import GatewayError, NotFound, TokenRevoked, Unauthorized, envelope, status_for
from gateway.http import JSONResponse, request_id
from gateway.identity.auth import Principal, authenticate
from gateway.identity.keys import AdminKey, decode_private, encode_public, ensure_keys, load_control_keys
from gateway.identity.tokens import DEFAULT_TTL_SECONDS, TokenClaims, TokenSigner, TokenVerifier
from gateway.middleware import RequestIdMiddleware
from gateway.registry import IssuedToken, open_registry
from gateway.secret_box import SecretBox
from host_api.errors import CodedError

logger = logging.getLogger("wasmtask.control")
PR_SET_PDEATHSIG = 1  # prctl(2)
PARENT_POLL_SECONDS = 0.25


class ControlPlane:
    """The control plane's state: settings, the signing key, the registry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        keys = load_control_keys(settings)
        self.admin = keys.admin
        self._signer = TokenSigner(keys.signing_key)
        self.tokens = TokenVerifier(keys.signing_key.public_key())
        self.registry = open_registry(settings, SecretBox(Fernet.generate_key().decode()))

    def close(self) -> None:
        self.registry.close()

    async def principal(self, headers: Mapping[str, str]) -> Principal | None:
        """The caller; a tenant token must also be one this registry issued and did not revoke."""
        principal = authenticate(headers, admin=self.admin, tokens=self.tokens)
        if principal is None or principal.admin or principal.token_id is None:
            return principal
        try:
            issued = await anyio.to_thread.run_sync(self.registry.issued_token, principal.token_id)
        except NotFound:
            raise Unauthorized("the token is unknown to this registry: ask for a new one") from None
        if issued.revoked_at is not None:
            raise TokenRevoked("the token was revoked: ask for a new one (wasmtask token issue)")
        return principal

    def issue(self, tenant: str, scopes: list[str] | tuple[str, ...], *, tenant_id: str,
              ttl_seconds: int = DEFAULT_TTL_SECONDS, limits: dict[str, Any] | None = None,
              function: str | None = None) -> tuple[str, TokenClaims]:
        """Sign a token (``function``: narrowed to that function) and record it (so it can be revoked);
        blocking (call it on a thread)."""
        token, claims = self._signer.issue(tenant, scopes, tenant_id=tenant_id, ttl_seconds=ttl_seconds,
                                           limits=limits, function=function)
        self.registry.record_token(IssuedToken(jti=claims.token_id, tenant=tenant, tenant_uid=tenant_id,
                                               scopes=tuple(sorted(claims.scopes)), issued_at=claims.issued_at,
                                               expires_at=claims.expires_at))
        return token, claims


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "role": "control"})


async def _on_coded_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CodedError)
    headers = exc.headers if isinstance(exc, GatewayError) else {}
    details = exc.details if isinstance(exc, GatewayError) else {}
    return JSONResponse(envelope(exc.code, exc.message, request_id(request), **details),
                        status_code=status_for(exc.code), headers=headers or None)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    message = {404: "no such route on the control plane (tenants and tokens only)",
               405: f"{request.method} is not allowed here"}.get(exc.status_code, str(exc.detail))
    return JSONResponse(envelope(code, message, request_id(request)), status_code=status_for(code),
                        headers=dict(exc.headers or {}) or None)


def create_control_app(settings: Settings | None = None, control: ControlPlane | None = None) -> Starlette:
    from gateway.routes.tenants import control_routes  # here: the routes' module imports this one

    control = control or ControlPlane(settings or Settings.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            control.close()

    app = Starlette(
        routes=[Route("/healthz", _healthz, methods=["GET"]), *control_routes],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={CodedError: _on_coded_error, HTTPException: _on_http_exception},
        lifespan=lifespan,
    )
    app.state.control = control
    return app


CREDENTIAL_VARIABLES = ("WASMTASK_ADMIN_KEY", "WASMTASK_SIGNING_KEY")  # what mints credentials
CONTROL_PID_VARIABLE = "WASMTASK_CONTROL_PID"  # a re-executed ``wasmtask serve``: its control plane child
START_TIMEOUT_SECONDS = 60.0


class ControlPlaneFailed(RuntimeError):
    """The control plane's process exited, or did not answer, at start-up."""


def serving_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` for a process that runs guest code: the admin key replaced by its digest, the
    signing key by its public half (the data key of tenant secrets stays: calls need it)."""
    env = dict(environ)
    admin_key = env.pop("WASMTASK_ADMIN_KEY", "").strip()
    if admin_key:
        env["WASMTASK_ADMIN_KEY_SHA256"] = AdminKey.from_plaintext(admin_key).hex
    signing_key = env.pop("WASMTASK_SIGNING_KEY", "").strip()
    if signing_key and not env.get("WASMTASK_TOKEN_PUBLIC_KEY"):
        env["WASMTASK_TOKEN_PUBLIC_KEY"] = encode_public(decode_private(signing_key).public_key())
    return env


def serving_settings(settings: Settings, control_url: str) -> Settings:
    """``settings`` for a serving process: the same, with digests and public keys in place of keys."""
    admin_sha256 = settings.admin_key_sha256
    if settings.admin_key:
        admin_sha256 = AdminKey.from_plaintext(settings.admin_key).hex
    public_key = settings.token_public_key
    if settings.signing_key and not public_key:
        public_key = encode_public(decode_private(settings.signing_key).public_key())
    return dataclasses.replace(settings, admin_key=None, admin_key_sha256=admin_sha256, signing_key=None,
                               token_public_key=public_key, control_url=settings.control_url or control_url)


def listener_url(host: str, port: int) -> str:
    """The URL to show for a listener, and to reach it from this host (a wildcard address: loopback)."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{reach}]:{port}" if ":" in reach else f"http://{reach}:{port}"


def answers(url: str) -> bool:
    """Whether the control plane at ``url`` answers ``/healthz`` (no proxy, no logging)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


class ControlPlaneProcess:
    """The control plane as ``wasmtask serve``'s child process (its PID and URL)."""

    def __init__(self, pid: int, url: str, process: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.url = url
        self._process = process

    @classmethod
    def start(cls, settings: Settings, host: str, port: int, *, serving_url: str, demo: bool,
              timeout: float = START_TIMEOUT_SECONDS) -> ControlPlaneProcess:
        """Start it (it creates missing keys, and with ``demo`` prints the banner) and wait until it answers."""
        env = {**os.environ, "WASMTASK_DATA_DIR": str(settings.data_dir.resolve())}
        env.pop("WASMTASK_SECRET_KEY", None)  # it never decrypts a tenant's secrets
        command = [sys.executable, "-m", "gateway.control_plane", "--host", host, "--port", str(port),
                   "--parent-pid", str(os.getpid()), "--serving-url", serving_url, *(["--demo"] if demo else [])]
        process = subprocess.Popen(command, env=env)  # stdout is ours: it prints the banner
        running = cls(process.pid, listener_url(host, port), process)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise ControlPlaneFailed(f"the control plane exited with status {process.returncode} "
                                         f"(is port {port} free? --control-port picks another)")
            if answers(running.url):
                return running
            if time.monotonic() > deadline:
                running.stop()
                raise ControlPlaneFailed(f"the control plane did not answer on {running.url} in {timeout:g} s")
            time.sleep(0.05)

    @classmethod
    def adopt(cls) -> ControlPlaneProcess | None:
        """The control plane a re-executed ``wasmtask serve`` started before it re-executed (a child of
        this process), named in the environment; None when there is none."""
        pid_text = os.environ.pop(CONTROL_PID_VARIABLE, "")
        url = os.environ.get("WASMTASK_CONTROL_URL", "")
        if not pid_text.isdigit() or not url:
            return None
        try:
            stat = Path(f"/proc/{pid_text}/stat").read_text()
        except OSError:
            return None
        if int(stat.rpartition(")")[2].split()[1]) != os.getpid():
            return None
        return cls(int(pid_text), url)

    def stop(self) -> None:
        """SIGTERM (it finishes its requests), SIGKILL after 10 s. From a confined serving process,
        which may not signal it, nothing: it stops by itself once this process is gone."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def exec_without_credentials(argv: list[str], control: ControlPlaneProcess | None) -> NoReturn:
    """Run ``argv`` (this program's) in place of this process with the environment of a serving one:
    the operator's admin and signing keys leave its memory, environment block included. ``control``:
    the control plane this process started, which the new program adopts."""
    env = serving_environment(os.environ)
    if control is not None:
        env.update({CONTROL_PID_VARIABLE: str(control.pid),
                    "WASMTASK_CONTROL_URL": os.environ.get("WASMTASK_CONTROL_URL") or control.url})
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv], env)


def die_with_parent(parent_pid: int) -> None:
    """SIGTERM to this process when ``wasmtask serve`` is gone, even by SIGKILL: a control plane never
    outlives it. The kernel's parent-death signal, and a thread that watches the parent: a parent
    confined by Landlock may not signal outside its domain, the parent-death signal included."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the line above
        raise SystemExit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's handler: a graceful stop

    threading.Thread(target=watch, name="wasmtask-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """``python -m gateway.control_plane``: what ``wasmtask serve`` starts (keys, demo, banner, listener)."""
    parser = argparse.ArgumentParser(prog="python -m gateway.control_plane", description="The control plane.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--parent-pid", type=int, help="exit with this process")
    parser.add_argument("--serving-url", default="http://127.0.0.1:8080", help="for the banner")
    parser.add_argument("--demo", action="store_true", help="create the demo tenant and print the banner")
    args = parser.parse_args(argv)
    if args.parent_pid:
        die_with_parent(args.parent_pid)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    generated = ensure_keys(settings)
    control = ControlPlane(settings)
    if args.demo:
        from gateway.cli.banner import banner, ensure_demo_tenant  # here: the banner's module imports this one

        ensure_demo_tenant(control)
        banner(control, args.serving_url, listener_url(args.host, args.port), generated.plaintext, sys.stdout)
    uvicorn.run(create_control_app(control=control), host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
