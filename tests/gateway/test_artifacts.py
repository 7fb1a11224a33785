"""Prepared programs on disk (gateway/artifacts.py): written at deploy, mapped after a restart, rebuilt
once when missing or damaged, removed with their function, and a full disk fails a deploy cleanly."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.config import Settings
from gateway.service import Gateway
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, PostgresServer, ThreadServer, error_code

WORKERS_HELLO = "export default { fetch() { return new Response(%s); } };"


def hello(text: str) -> str:
    return WORKERS_HELLO % orjson.dumps(text).decode()


@contextlib.contextmanager
def serving(data_dir: Path, database_url: str | None = None, cache_size: int = 256) -> Iterator[tuple[Api, Gateway]]:
    """A gateway over ``data_dir`` (a host), stopped at the end."""
    server = ThreadServer(Settings(data_dir=data_dir, database_url=database_url, cache_size=cache_size,
                                   **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    try:
        yield Api(server.url), server.app.state.gateway
    finally:
        server.stop()


def files_of(data_dir: Path, tenant: str, function: str, suffix: str = ".cwasm") -> list[Path]:
    return sorted(data_dir.glob(f"artifacts/*/{tenant}/{function}/*{suffix}"))


def deployed_function(data_dir: Path, text: str = "hello", database_url: str | None = None) -> tuple[str, dict[str, str]]:
    """A tenant with function ``f`` answering ``text``, deployed by a gateway that has stopped since."""
    with serving(data_dir, database_url) as (api, _):
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "f", hello(text), token)
    return tenant, token


def test_a_deploy_writes_its_program_and_a_restarted_gateway_maps_it_without_preparing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    tenant, _ = deployed_function(data_dir)
    [module] = files_of(data_dir, tenant, "f")
    header = orjson.loads(module.with_suffix(".json").read_bytes())

    with serving(data_dir) as (api, gateway):
        answer = api.http.get(f"/run/{tenant}/f")

        assert answer.text == "hello"
        assert (gateway.programs.prepares, gateway.programs.artifact_loads) == (0, 1)
        assert "wasmtask_program_loads_total 1.0" in api.http.get("/metrics").text
    assert header["bytes"] == module.stat().st_size and header["format"] == 1
    assert "wasmtime=" in header["fingerprint"] and "jsrt=" in header["fingerprint"]
    assert not list(module.parent.glob("*.tmp"))


def test_an_evicted_program_comes_back_from_its_file_not_from_source(tmp_path: Path) -> None:
    with serving(tmp_path / "data", cache_size=1) as (api, gateway):
        tenant = api.create_tenant()
        token = api.token(tenant)
        for name in ("f", "g"):
            api.deployed(tenant, name, hello(name), token)

        answers = [api.http.get(f"/run/{tenant}/{name}").text for name in ("f", "g", "f", "g")]

        assert answers == ["f", "g", "f", "g"]
        assert len(gateway.programs) == 1
        assert (gateway.programs.prepares, gateway.programs.artifact_loads) == (0, 4)  # each call evicted the other


def rewrite(path: Path, data: bytes) -> None:
    """Damage as a new file renamed over the old one: the file found damaged at the next load. (Damage in
    place to a file a process still maps is SIGBUS in that process, as for any mapped executable:
    the gateway never writes an artifact in place, only renames complete ones over.)"""
    staged = path.with_name(path.name + ".damaged")
    staged.write_bytes(data)
    staged.replace(path)


def truncate(module: Path) -> None:
    data = module.read_bytes()
    rewrite(module, data[: len(data) // 2])


def corrupt(module: Path) -> None:
    data = bytearray(module.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte in the middle: the image's data, most likely
    rewrite(module, bytes(data))


def from_another_engine(module: Path) -> None:
    header = module.with_suffix(".json")
    fields = orjson.loads(header.read_bytes())
    fields["fingerprint"] = fields["fingerprint"].replace("wasmtime=", "wasmtime=0.0.1-")
    rewrite(header, orjson.dumps(fields))


def not_wasmtimes(module: Path) -> None:
    """Bytes wasmtime will not load, under a header that vouches for them (size and CRC-32)."""
    import zlib

    data = b"\x7fELF" + b"\0" * 4092
    rewrite(module, data)
    header = module.with_suffix(".json")
    fields = orjson.loads(header.read_bytes())
    header.write_bytes(orjson.dumps({**fields, "bytes": len(data), "crc32": zlib.crc32(data)}))


def header_garbage(module: Path) -> None:
    module.with_suffix(".json").write_bytes(b"{not json")


@pytest.mark.parametrize("damage", [truncate, corrupt, from_another_engine, not_wasmtimes, header_garbage])
def test_a_damaged_or_foreign_file_is_rebuilt_never_loaded(tmp_path: Path, damage: object) -> None:
    data_dir = tmp_path / "data"
    tenant, _ = deployed_function(data_dir, "intact")
    [module] = files_of(data_dir, tenant, "f")
    damage(module)  # type: ignore[operator]

    with serving(data_dir) as (api, gateway):
        first = api.http.get(f"/run/{tenant}/f")
        assert first.text == "intact"
        assert gateway.programs.prepares == 1
        version = gateway.registry.current(tenant, "f")
        assert gateway.programs.artifacts is not None
        assert gateway.programs.artifacts.load(version) is not None  # rebuilt whole
    with serving(data_dir) as (api, gateway):
        assert api.http.get(f"/run/{tenant}/f").text == "intact"
        assert gateway.programs.prepares == 0


def test_only_the_current_version_is_kept_and_a_delete_removes_the_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as (api, _):
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "f", hello("one"), token)
        second = api.deployed(tenant, "f", hello("two"), token)
        after_deploy = files_of(data_dir, tenant, "f")
        rolled = api.http.post(f"/api/functions/{tenant}/f/rollback", json={"version": "v1"}, headers=token)
        after_rollback = files_of(data_dir, tenant, "f")
        api.deployed(tenant, "g", hello("other"), token)

        deleted = api.http.delete(f"/api/functions/{tenant}/f", headers=token)

        assert len(after_deploy) == 1 and len(after_rollback) == 1 and after_rollback != after_deploy
        assert second["version"] == "v2" and rolled.status_code == 200, rolled.text
        assert deleted.status_code == 200 and api.http.get(f"/run/{tenant}/f").status_code == 404
        assert not files_of(data_dir, tenant, "f", "") and not list(data_dir.glob(f"artifacts/*/{tenant}/f"))
        assert len(files_of(data_dir, tenant, "g")) == 1


def test_a_secret_change_is_a_new_version_with_its_own_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as (api, _):
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "f", hello("secretive"), token)
        before = files_of(data_dir, tenant, "f")

        changed = api.http.put(f"/api/functions/{tenant}/f/secrets/KEY", json={"value": "v"}, headers=token)

        assert changed.status_code == 200, changed.text
        after = files_of(data_dir, tenant, "f")
        assert len(after) == 1 and after != before
    with serving(data_dir) as (api, gateway):
        assert api.http.get(f"/run/{tenant}/f").text == "secretive"
        assert gateway.programs.prepares == 0


def test_concurrent_first_calls_on_two_workers_of_a_host_build_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    tenant, _ = deployed_function(data_dir, "built once")
    shutil.rmtree(next(data_dir.glob("artifacts/*")) / tenant)  # as on a host that never had the file

    with serving(data_dir) as (api_a, gateway_a), serving(data_dir) as (api_b, gateway_b):
        answers: list[str] = []
        start = threading.Barrier(8)

        def call(api: Api) -> None:
            with httpx.Client(base_url=api.url, trust_env=False, timeout=30) as http:
                start.wait()
                answers.append(http.get(f"/run/{tenant}/f").text)

        threads = [threading.Thread(target=call, args=(api,)) for api in [api_a, api_b] * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert answers == ["built once"] * 8
        assert gateway_a.programs.prepares + gateway_b.programs.prepares == 1
        assert len(files_of(data_dir, tenant, "f")) == 1


def test_another_host_sharing_the_registry_builds_its_own_file_once(tmp_path: Path,
                                                                   postgres: PostgresServer) -> None:
    database_url = postgres.create_database("artifacts")
    tenant, _ = deployed_function(tmp_path / "host-a", "everywhere", database_url)
    # host B has the same keys (generated into host A's data dir) and none of its files
    shutil.copytree(tmp_path / "host-a", tmp_path / "host-b", ignore=shutil.ignore_patterns("artifacts"))

    with serving(tmp_path / "host-b", database_url) as (api, gateway):
        answers = [api.http.get(f"/run/{tenant}/f").text for _ in range(3)]
        assert answers == ["everywhere"] * 3 and gateway.programs.prepares == 1
    with serving(tmp_path / "host-b", database_url) as (api, gateway):
        assert api.http.get(f"/run/{tenant}/f").text == "everywhere"
        assert (gateway.programs.prepares, gateway.programs.artifact_loads) == (0, 1)
    assert len(files_of(tmp_path / "host-b", tenant, "f")) == 1


def test_files_of_another_engine_or_runtime_are_removed_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    leftover = data_dir / "artifacts" / "0123456789abcdef" / "t" / "f"
    leftover.mkdir(parents=True)
    (leftover / "1.cwasm").write_bytes(b"from an older wasmtime")

    with serving(data_dir):
        assert not (data_dir / "artifacts" / "0123456789abcdef").exists()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` mounted on ``path`` (root only: skips elsewhere)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_full_disk_fails_the_deploy_with_storage_full_and_the_previous_version_serves(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # room for one hello's file (~2.3 MB) and not two
    with tmpfs(data_dir / "artifacts", "3m"), serving(data_dir) as (api, _):
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "f", hello("previous"), token)

        refused = api.deploy(tenant, "f", hello("next"), token)

        assert refused.status_code == 507 and error_code(refused) == "storage_full", refused.text
        assert "no room on the server's disk" in refused.json()["error"]["message"]
        assert api.http.get(f"/run/{tenant}/f").text == "previous"
        versions = api.http.get(f"/api/functions/{tenant}/f/versions", headers=token).json()["versions"]
        assert [v["version"] for v in versions] == ["v1"]
        assert not list((data_dir / "artifacts").rglob("*.tmp"))
        assert len(files_of(data_dir, tenant, "f")) == 1


def test_a_file_is_written_whole_without_holes(tmp_path: Path) -> None:
    """No sparse files: on a full tmpfs, touching a hole of a mapped file is SIGBUS for the mapper."""
    from gateway.artifact_files import write_temporary

    data = b"head" + bytes(64 * 1024) + b"middle" + bytes(10_000)

    written = write_temporary(tmp_path, data)

    assert written.read_bytes() == data and written.name.endswith(".tmp")
    assert written.stat().st_blocks * 512 >= len(data)  # every page allocated, the zeros too
