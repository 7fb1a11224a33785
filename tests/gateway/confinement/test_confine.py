"""``gateway.confinement.confine`` in a child Python process (never in the pytest process: it is for life),
which then reports what still works and what no longer does."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.confinement import landlock, seccomp
from gateway.confinement.policy import serving_policy

REPO = Path(__file__).resolve().parents[3]

PRELUDE = """
import json, os, socket, sys, threading
from pathlib import Path
from gateway.config import Settings
from gateway.confinement import confine
from gateway.confinement.policy import serving_policy
settings = Settings(data_dir=Path(sys.argv[1]), sandbox=sys.argv[2])
report = {}
def attempt(name, action):
    try:
        report[name] = ["ok", action()]
    except OSError as exc:
        report[name] = ["denied", exc.errno]
"""


def in_child(tmp_path: Path, body: str, mode: str = "on") -> dict[str, Any]:
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(report))\n"
    finished = subprocess.run([sys.executable, "-c", script, str(data_dir), mode], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    result: dict[str, Any] = json.loads(finished.stdout.splitlines()[-1])
    return result


@pytest.fixture(autouse=True)
def kernel_sandbox() -> None:
    if landlock.abi() < 1 or seccomp.available():
        pytest.skip("this kernel lacks Landlock or seccomp")


def test_confining_with_a_second_thread_running_is_refused(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        try:
            confine(settings)
        except RuntimeError as exc:
            report["refused"] = str(exc)
    """)
    assert "Landlock would not confine the others" in report["refused"]


def test_the_listener_port_binds_and_no_other(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        allowed = socket.socket(); allowed.bind(("127.0.0.1", 0)); port = allowed.getsockname()[1]; allowed.close()
        confine(settings, serving_policy(settings, bind_ports=(port,)))
        attempt("listener", lambda: socket.create_server(("127.0.0.1", port)).close())
        attempt("other", lambda: socket.create_server(("127.0.0.1", port + 1 if port < 65535 else port - 1)).close())
        attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
    """)
    assert report["listener"][0] == "ok"
    assert report["other"] == ["denied", 13]  # EACCES: Landlock's BIND_TCP
    assert report["udp"][0] == "ok"  # DNS


def test_name_lookup_and_outgoing_connections_still_work(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        server = socket.create_server(("127.0.0.1", 0)); port = server.getsockname()[1]
        confine(settings)
        attempt("getaddrinfo", lambda: len(socket.getaddrinfo("localhost", port)))
        attempt("connect", lambda: socket.create_connection(("127.0.0.1", port)).close())
        attempt("unix", lambda: socket.socketpair(socket.AF_UNIX)[0].close())
    """)
    assert report["getaddrinfo"][0] == "ok"  # glibc falls back when its netlink probe is refused
    assert report["connect"][0] == "ok"
    assert report["unix"][0] == "ok"


def test_threads_started_later_are_confined_too(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        confine(settings)
        def later():
            attempt("read_shadow", lambda: open("/etc/shadow").read())
            attempt("fork", os.fork)
            attempt("seccomp_mode", lambda: [line.split()[1] for line in open("/proc/thread-self/status")
                                             if line.startswith("Seccomp:")])
        thread = threading.Thread(target=later); thread.start(); thread.join()
    """)
    assert report["read_shadow"] == ["denied", 13]
    assert report["fork"] == ["denied", 1]
    assert report["seccomp_mode"] == ["ok", ["2"]]  # SECCOMP_MODE_FILTER


def test_the_temp_dir_is_writable_the_artifacts_only_readable_and_the_data_dir_neither(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        import tempfile
        (settings.data_dir / "secret.key").write_text("k")
        (settings.data_dir / "artifacts").mkdir()
        (settings.data_dir / "artifacts" / "1.cwasm").write_bytes(b"made by the builder")
        confine(settings)
        attempt("tempfile", lambda: tempfile.NamedTemporaryFile().name)
        attempt("read_artifact", lambda: (settings.data_dir / "artifacts" / "1.cwasm").read_bytes().decode())
        attempt("write_artifact", lambda: open(settings.data_dir / "artifacts" / "1.cwasm", "r+b").close())
        attempt("new_artifact", lambda: (settings.data_dir / "artifacts" / "x.cwasm").write_bytes(b"x"))
        attempt("key", lambda: (settings.data_dir / "secret.key").read_text())
        attempt("new_file_in_data_dir", lambda: (settings.data_dir / "new").write_text("x"))
    """)
    assert report["tempfile"][0] == "ok" and "/data/tmp/" in report["tempfile"][1]
    assert report["read_artifact"] == ["ok", "made by the builder"]
    assert report["write_artifact"] == ["denied", 13]
    assert report["new_artifact"] == ["denied", 13]
    assert report["key"] == ["denied", 13]
    assert report["new_file_in_data_dir"] == ["denied", 13]


def test_off_confines_nothing(tmp_path: Path) -> None:
    report = in_child(tmp_path, """
        report["state"] = confine(settings).to_dict()
        def fork_and_wait():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            return os.waitpid(pid, 0)[1]
        attempt("fork", fork_and_wait)
    """, mode="off")
    assert report["state"] == {"mode": "off", "landlock": "off", "seccomp": "off"}
    assert report["fork"] == ["ok", 0]


def test_the_policy_names_no_key_file_and_no_toolchain(tmp_path: Path) -> None:
    policy = serving_policy(Settings(data_dir=tmp_path / "data"), bind_ports=(8080,))
    reachable = [*policy.read, *policy.write_files, *policy.write_dirs]
    data_dir = str((tmp_path / "data").resolve())
    assert data_dir not in reachable  # only named files and directories inside it
    assert [path for path in reachable if path.startswith(data_dir)] == [
        f"{data_dir}/artifacts", f"{data_dir}/registry.sqlite3", f"{data_dir}/registry.sqlite3-wal",
        f"{data_dir}/registry.sqlite3-shm", f"{data_dir}/tmp"]
    assert f"{data_dir}/artifacts" in policy.read  # written by the builder only
    assert not any(path.startswith("/etc/shadow") or path == "/etc" for path in reachable)
    assert policy.bind_ports == (8080,)
