"""The load generator: wrk (Debian's package), its output parsed into a LoadResult.

wrk runs with ``--latency`` (p50/p75/p90/p99 in its text output) and a tiny Lua
``done`` hook that prints the whole latency curve and the error counters as one
JSON line (a ``done`` hook alone does not slow wrk down; a ``response`` hook would).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from benches.cpu import children_cpu_seconds

# One wrk thread: on a 2-core machine a second thread only steals CPU from the
# server under test, and one thread drives well over 20k req/s here (workerd, c=64).
WRK_THREADS = 1
# wrk's default 2 s timeout would turn the process-per-request peer's queueing into errors.
WRK_TIMEOUT = "10s"
CURVE_PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100)

LUA_DONE = """
local percentiles = {%s}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "status": %%d, "timeout": %%d, "curve_us": [',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
  for i, p in ipairs(percentiles) do
    local value = (p >= 100) and latency.max or latency:percentile(p)
    io.write(string.format('%%s[%%g, %%d]', i > 1 and ', ' or '', p, value))
  end
  io.write(']}\\n')
end
""" % ", ".join(str(p) for p in CURVE_PERCENTILES)  # noqa: UP031 (%% are the Lua format's own)


class WrkMissing(RuntimeError):
    """wrk is not installed and could not be installed."""


@dataclass
class LoadResult:
    """One wrk run against one system at one concurrency. Latencies in milliseconds."""

    system: str
    concurrency: int
    duration_s: float
    requests: int
    ok_per_second: float  # 2xx/3xx responses per second: the throughput that counts
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect/read/write/timeout, non-zero only
    curve_ms: list[tuple[float, float]] = field(default_factory=list)  # (percentile, latency)
    load_average: float | None = None  # 1-minute load average when the run started
    rounds_per_second: list[float] = field(default_factory=list)  # ok_per_second of every round, in run order
    server_cpu_s: float | None = None  # CPU seconds the server's processes used during the run (benches/cpu.py)
    wrk_cpu_s: float | None = None  # CPU seconds wrk used

    @property
    def server_cpu_us_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    @property
    def cores_busy(self) -> float | None:
        """Server and wrk CPU over the run's wall time: how much of the machine's cores they used."""
        if self.server_cpu_s is None or self.wrk_cpu_s is None or not self.duration_s:
            return None
        return (self.server_cpu_s + self.wrk_cpu_s) / self.duration_s

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LoadResult:
        values = dict(data)
        values["curve_ms"] = [tuple(point) for point in values.get("curve_ms", [])]  # type: ignore[attr-defined]  # JSON lists
        return cls(**values)  # type: ignore[arg-type]


def median_round(rounds: list[LoadResult]) -> LoadResult:
    """The round with the median throughput (the lower middle one of an even count), carrying every round's."""
    ordered = sorted(rounds, key=lambda r: r.ok_per_second)
    chosen = ordered[(len(ordered) - 1) // 2]
    return replace(chosen, rounds_per_second=[r.ok_per_second for r in rounds])


def find_wrk(install: bool = True) -> str:
    """The wrk binary; installs Debian's package when missing and we are root."""
    path = shutil.which("wrk")
    if path:
        return path
    if not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise WrkMissing("wrk not found on PATH (install it: apt-get install -y wrk; the harness does it only as root)")
    for argv in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
        path = shutil.which("wrk")
        if path:
            return path
    raise WrkMissing("wrk not found and `apt-get install -y wrk` did not provide it")


def write_lua(directory: Path, *, method: str | None = None, headers: Sequence[tuple[str, str]] = (),
              body: bytes | None = None) -> Path:
    """The Lua script of a run: the request to send (default: wrk's GET of the URL), then the ``done`` hook."""
    lines = [f"wrk.method = {_lua_string(method.encode())}"] if method else []
    lines += [f"wrk.headers[{_lua_string(name.encode())}] = {_lua_string(value.encode())}" for name, value in headers]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    path = directory / "wrk_done.lua"
    path.write_text("\n".join(lines) + LUA_DONE)
    return path


def _lua_string(data: bytes) -> str:
    """A Lua string literal of any bytes (decimal escapes for all but plain ASCII)."""
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;/+=*!?@#$%^&()[]{}<>|~'`")
    return '"' + "".join(chr(byte) if byte in plain else f"\\{byte:03d}" for byte in data) + '"'


def run(wrk: str, lua: Path, url: str, *, system: str, concurrency: int, duration_s: int,
        load_average: float | None = None, server_cpu: Callable[[], float] | None = None,
        loopback_only: bool = True) -> LoadResult:
    """One wrk run. ``server_cpu``: the server's CPU seconds so far, read before and after the run.
    ``loopback_only``: the platform's benches load 127.0.0.1 only; ``wasmtask bench --http`` loads the user's URL."""
    if loopback_only and not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load is only ever sent to 127.0.0.1, not {url}")
    argv = [wrk, "-t", str(min(WRK_THREADS, concurrency)), "-c", str(concurrency), "-d", f"{duration_s}s",
            "--timeout", WRK_TIMEOUT, "--latency", "-s", str(lua), url]
    server_before = server_cpu() if server_cpu else 0.0
    wrk_before = children_cpu_seconds()
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60)
    wrk_cpu_s = children_cpu_seconds() - wrk_before
    server_cpu_s = server_cpu() - server_before if server_cpu else None
    if completed.returncode != 0:
        raise RuntimeError(f"wrk exited with {completed.returncode}: {completed.stderr.strip()}")
    result = parse(completed.stdout, system=system, concurrency=concurrency, load_average=load_average)
    return replace(result, server_cpu_s=server_cpu_s, wrk_cpu_s=round(wrk_cpu_s, 3))


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(output: str, *, system: str, concurrency: int, load_average: float | None = None) -> LoadResult:
    """A LoadResult from wrk's stdout (text report plus the WRK_JSON line of the Lua hook)."""
    data_line = next((line for line in output.splitlines() if line.startswith("WRK_JSON ")), None)
    if data_line is None:
        raise ValueError("wrk output has no WRK_JSON line (was the Lua script passed?)")
    data = json.loads(data_line.removeprefix("WRK_JSON "))
    # The hook's curve is in whole µs; wrk's --latency text (rounded to 2 digits) is the fallback.
    text_percentiles = {float(p): _duration_ms(value)
                        for p, value in re.findall(r"^\s+([\d.]+)%\s+([\d.]+(?:us|ms|s|m|h))\s*$", output, re.M)}
    duration_s = data["duration_us"] / 1e6
    requests = int(data["requests"])
    curve = [(float(p), us / 1000) for p, us in data["curve_us"]]
    by_percentile = dict(curve)
    errors = {key: int(data[key]) for key in ("connect", "read", "write", "timeout") if data[key]}
    return LoadResult(
        system=system,
        concurrency=concurrency,
        duration_s=round(duration_s, 3),
        requests=requests,
        ok_per_second=(requests - int(data["status"])) / duration_s if duration_s else 0.0,
        p50_ms=by_percentile.get(50.0, text_percentiles.get(50.0, 0.0)),
        p99_ms=by_percentile.get(99.0, text_percentiles.get(99.0, 0.0)),
        non_2xx=int(data["status"]),
        socket_errors=errors,
        curve_ms=curve,
        load_average=load_average,
    )
