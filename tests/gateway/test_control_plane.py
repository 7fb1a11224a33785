"""The control plane: its own process and listener, the only one with the signing key; the serving
process (where guest code runs) holds no key that mints a credential, in its files, environment or memory."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import jwt
import pytest

from gateway.identity.keys import AdminKey, encode_private
from tests.gateway.support import ADMIN_KEY, Api, ProcessServer, child_pids, error_code


def control_plane_pid(server: ProcessServer) -> int:
    assert server.process is not None
    for pid in child_pids(server.process.pid):
        if b"gateway.control_plane" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError("no control plane process")


def environment_of(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode(errors="replace").partition("=")[::2] for entry in entries if b"=" in entry)


def memory_holds(pid: int, needles: list[bytes]) -> list[bytes]:
    """Which of ``needles`` occur anywhere in the readable memory of process ``pid``."""
    found: set[bytes] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(part, 16) for part in span.split("-"))
            if not perms.startswith("r") or end - start > 1 << 30:
                continue
            try:
                memory.seek(start)
                data = memory.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found.update(needle for needle in needles if needle in data)
    return sorted(found)


def test_the_serving_process_holds_no_key_that_mints_credentials(tmp_path: Path) -> None:
    """The operator gives the admin and signing keys by environment (as a container would): ``wasmtask
    serve`` re-executes itself without them; only the control plane's process has them."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signing_key = encode_private(Ed25519PrivateKey.generate())
    server = ProcessServer(tmp_path / "data", {"WASMTASK_SIGNING_KEY": signing_key}).start()
    try:
        assert server.process is not None
        serving_pid, control_pid = server.process.pid, control_plane_pid(server)
        api = Api(server.url)
        # the admin key goes to the control plane only (sent to a serving listener, it would pass through
        # that process's memory: the admin's home is the control plane, tenants use tokens)
        assert api.control.post("/api/tenants", json={"name": "acme"}, headers=api.admin).status_code == 201
        token = api.token("acme")
        assert api.http.get("/api/functions/acme", headers=token).status_code == 200

        serving_env, control_env = environment_of(serving_pid), environment_of(control_pid)
        assert "WASMTASK_ADMIN_KEY" not in serving_env and "WASMTASK_SIGNING_KEY" not in serving_env
        assert serving_env["WASMTASK_ADMIN_KEY_SHA256"] == AdminKey.from_plaintext(ADMIN_KEY).hex
        assert serving_env["WASMTASK_TOKEN_PUBLIC_KEY"]
        assert control_env["WASMTASK_SIGNING_KEY"] == signing_key and "WASMTASK_SECRET_KEY" not in control_env
        assert memory_holds(serving_pid, [ADMIN_KEY.encode(), signing_key.encode()]) == []
        assert memory_holds(control_pid, [signing_key.encode()]) == [signing_key.encode()]  # the control
        assert api.http.get("/api/functions/acme", headers=api.admin).status_code == 200  # known by its digest
    finally:
        server.stop()


def test_the_routes_are_split_between_the_listeners(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "data").start()
    try:
        api = Api(server.url)
        misdirected = api.http.post("/api/tenants", json={"name": "x"}, headers=api.admin)
        control_health = api.control.get("/healthz").json()
        no_functions_there = api.control.get("/run/demo/f")

        assert (misdirected.status_code, error_code(misdirected)) == (421, "control_plane_route")
        assert misdirected.json()["error"]["control_url"] == server.control_url
        assert control_health == {"status": "ok", "role": "control"}
        assert (no_functions_there.status_code, error_code(no_functions_there)) == (404, "not_found")
    finally:
        server.stop()


def test_a_data_dir_of_the_hs256_era_gets_ed25519_keys_and_its_tokens_must_be_reissued(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "admin.key").write_text("wt_admin_" + "k" * 32 + "\n")
    (data_dir / "jwt.key").write_text("the-old-hmac-secret-" + "s" * 40 + "\n")
    now = int(time.time())
    old_token = jwt.encode({"iss": "wasmtask", "ten": "demo", "scopes": ["run"], "iat": now, "exp": now + 600,
                            "jti": "old"}, (data_dir / "jwt.key").read_text().strip(), algorithm="HS256")
    server = ProcessServer(data_dir, {"WASMTASK_ADMIN_KEY": ""}).start(demo=True)
    try:
        refused = httpx.get(f"{server.url}/api/functions/demo", headers={"authorization": f"Bearer {old_token}"})
        admin = httpx.get(f"{server.url}/api/functions/demo",
                          headers={"authorization": f"Bearer wt_admin_{'k' * 32}"})
        token = re.search(r"export WASMTASK_TOKEN=(\S+)", server.output())

        assert (refused.status_code, error_code(refused)) == (401, "token_reissue_required")
        assert "wasmtask token issue" in refused.json()["error"]["message"]
        assert admin.status_code == 200  # the same admin key, now kept as a digest too
        assert token and jwt.get_unverified_header(token.group(1))["alg"] == "EdDSA"
        assert (data_dir / "admin.key.sha256").read_text().strip() == AdminKey.from_plaintext(
            "wt_admin_" + "k" * 32).hex
        assert oct((data_dir / "signing.key").stat().st_mode & 0o777) == "0o600"
    finally:
        server.stop()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_control_plane_stops_with_wasmtask_serve(tmp_path: Path, how: signal.Signals) -> None:
    server = ProcessServer(tmp_path / "data").start()
    control = control_plane_pid(server)
    assert server.process is not None
    os.kill(server.process.pid, how)
    server.process.wait(timeout=30)

    deadline = time.monotonic() + 15
    while Path(f"/proc/{control}").exists() and b"control_plane" in Path(f"/proc/{control}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "the control plane outlived wasmtask serve"
        time.sleep(0.05)
