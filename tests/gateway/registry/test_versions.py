"""Version numbers are per function (v1, v2, ...), and concurrent deploys from several processes never share one."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from gateway.registry import Registry
from tests.gateway.registry.support import KEY, Backend, spec
from tests.gateway.support import REPO

DEPLOYS = 15


def test_every_function_starts_at_v1(backend: Backend) -> None:
    registry = backend.with_tenant()

    assert registry.deploy("acme", "f", spec("x")).version_id == "v1"
    assert registry.deploy("acme", "g", spec("x")).version_id == "v1"
    assert registry.deploy("acme", "f", spec("y")).version_id == "v2"
    assert registry.current("acme", "g").metadata()["version"] == "v1"


def test_a_function_deployed_again_after_a_delete_starts_again_but_its_serial_grows(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("x"))
    before = registry.deploy("acme", "f", spec("y"))
    registry.delete_function("acme", "f")

    again = registry.deploy("acme", "f", spec("z"))

    assert again.version == 1
    assert again.serial > before.serial
    assert [v["version"] for v in registry.list_versions("acme", "f")] == ["v1"]


def deploy_many(registry: Registry, numbers: list[int]) -> None:
    for index in range(DEPLOYS):
        numbers.append(registry.deploy("acme", "f", spec(f"code {index}")).version)


def test_concurrent_deploys_from_two_registries_get_distinct_consecutive_numbers(backend: Backend) -> None:
    backend.with_tenant()
    first, second = backend.open(), backend.open()  # two connections (pools), like two processes
    numbers: list[int] = []
    threads = [threading.Thread(target=deploy_many, args=(registry, numbers)) for registry in (first, second)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(numbers) == list(range(1, 2 * DEPLOYS + 1))
    assert first.current("acme", "f").version == 2 * DEPLOYS


DEPLOYER = """
import sys
from pathlib import Path
from gateway.config import Settings
from gateway.registry import DeploySpec, open_registry
from gateway.secret_box import SecretBox
from isolates import Limits

target, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings(database_url=target) if target.startswith("postgresql:") else Settings(data_dir=Path(target))
registry = open_registry(settings, SecretBox(key))
print("ready", flush=True)
sys.stdin.readline()  # go
for index in range(count):
    version = registry.deploy("acme", "f", DeploySpec("javascript", f"code {index}".encode(), Limits()))
    print(version.version, flush=True)
"""


def test_concurrent_deploys_from_two_processes_get_distinct_consecutive_numbers(backend: Backend) -> None:
    backend.with_tenant()
    target = backend.url if backend.engine == "postgres" else str(backend.path)
    assert target is not None
    processes = [
        subprocess.Popen([sys.executable, "-c", DEPLOYER, target, KEY, str(DEPLOYS)], cwd=REPO, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:  # both connected and migrated before either deploys
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    numbers = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        numbers += [int(line) for line in out.split()]

    assert sorted(numbers) == list(range(1, 2 * DEPLOYS + 1))


HANGING_DEPLOYER = """
import sys, time
from pathlib import Path
from gateway.config import Settings
from gateway.registry import DeploySpec, open_registry
from gateway.secret_box import SecretBox
from isolates import Limits

target, key = sys.argv[1], sys.argv[2]
settings = Settings(database_url=target) if target.startswith("postgresql:") else Settings(data_dir=Path(target))
registry = open_registry(settings, SecretBox(key))

def hang(*args):
    print("inside", flush=True)  # the new version row is written, the switch not yet
    time.sleep(60)

registry._make_current = hang
registry.deploy("acme", "f", DeploySpec("javascript", b"new", Limits()))
"""


def test_a_process_killed_in_the_middle_of_a_deploy_leaves_the_previous_version(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("old"))
    target = backend.url if backend.engine == "postgres" else str(backend.path)
    assert target is not None
    process = subprocess.Popen([sys.executable, "-c", HANGING_DEPLOYER, target, KEY], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().strip() == "inside", process.stderr

    process.kill()  # kill -9, in the middle of the transaction
    process.wait(timeout=10)

    assert registry.current("acme", "f").code == b"old"
    started = time.monotonic()
    assert registry.deploy("acme", "f", spec("newer")).version == 2  # its locks went with it
    assert time.monotonic() - started < 2
