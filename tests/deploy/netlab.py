"""A two-namespace network the egress tests build and tear down themselves.

    guest (a stand-in container behind svc: --forward-from tests)
      veth 10.200.2.2/24, default route via svc
    svc   (the service's namespace; the ruleset is loaded here; forwards)
      veth 10.200.2.1/24 to guest (the "bridge")
      veth 10.200.1.1/24 to world, route to 169.254.169.254 over the same link
    world (test hosts; nothing else is in it)
      10.200.1.2:8080    the allowed test host
      10.200.1.2:9090    same host, a port that is not allowed
      10.200.1.3:8080    a private host that is not allowed
      10.200.1.53:53/udp the configured resolver (echo)
      10.200.1.3:53/udp  a resolver that is not configured
      169.254.169.254:80 a stand-in cloud metadata service

The root namespace is never touched: each veth pair is made inside svc with
its peer created directly in the other namespace, so no traffic leaves these
three namespaces.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVICE_ADDRESS = "10.200.1.1"
GUEST_ADDRESS = "10.200.2.2"
ALLOWED = "tcp:10.200.1.2:8080"
OTHER_PORT = "tcp:10.200.1.2:9090"
PRIVATE = "tcp:10.200.1.3:8080"
RESOLVER = "udp:10.200.1.53:53"
OTHER_RESOLVER = "udp:10.200.1.3:53"
METADATA = "tcp:169.254.169.254:80"
ALL_TARGETS = (ALLOWED, OTHER_PORT, PRIVATE, RESOLVER, OTHER_RESOLVER, METADATA)


def run(*command: str, input: str | None = None, check: bool = True,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, input=input, text=True, capture_output=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def stop(process: subprocess.Popen[str] | None) -> None:
    """Stop a process this test started, by its PID: TERM, then KILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def ruleset_counters(ip: str, nft: str, netns: str) -> dict[str, int]:
    """Packets counted by the egress ruleset's commented rules in ``netns``, summed per comment."""
    listing = json.loads(run(ip, "netns", "exec", netns, nft, "-j", "list", "table", "inet", "wasmtask_egress").stdout)
    totals: dict[str, int] = {}
    for item in listing["nftables"]:
        rule = item.get("rule")
        if not rule or "comment" not in rule:
            continue
        packets = sum(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
        totals[rule["comment"]] = totals.get(rule["comment"], 0) + packets
    return totals


@dataclass
class Lab:
    ip: str
    nft: str
    prefix: str = field(default_factory=lambda: f"wt{os.getpid() % 100000}")
    world_server: subprocess.Popen[str] | None = None

    @property
    def svc(self) -> str:
        return f"{self.prefix}-svc"

    @property
    def world(self) -> str:
        return f"{self.prefix}-world"

    @property
    def guest(self) -> str:
        return f"{self.prefix}-guest"

    @property
    def bridge(self) -> str:
        """svc's end of the link to guest: what --forward-from names."""
        return f"{self.prefix}r"

    def exec_in(self, netns: str, *command: str) -> list[str]:
        return [self.ip, "netns", "exec", netns, *command]

    def up(self) -> None:
        ip, svc, world = self.ip, self.svc, self.world
        veth_svc, veth_world = f"{self.prefix}s", f"{self.prefix}w"
        run(ip, "netns", "add", svc)
        run(ip, "netns", "add", world)
        run(ip, "-n", svc, "link", "add", veth_svc, "type", "veth", "peer", "name", veth_world, "netns", world)
        run(ip, "-n", svc, "addr", "add", f"{SERVICE_ADDRESS}/24", "dev", veth_svc)
        for address in ("10.200.1.2/24", "10.200.1.3/24", "10.200.1.53/24", "169.254.169.254/32"):
            run(ip, "-n", world, "addr", "add", address, "dev", veth_world)
        for netns, veth in ((svc, veth_svc), (world, veth_world)):
            run(ip, "-n", netns, "link", "set", "lo", "up")
            run(ip, "-n", netns, "link", "set", veth, "up")
        run(ip, "-n", svc, "route", "add", "169.254.169.254/32", "dev", veth_svc)
        run(ip, "netns", "add", self.guest)
        veth_guest = f"{self.prefix}g"
        run(ip, "-n", svc, "link", "add", self.bridge, "type", "veth", "peer", "name", veth_guest, "netns", self.guest)
        run(ip, "-n", svc, "addr", "add", "10.200.2.1/24", "dev", self.bridge)
        run(ip, "-n", self.guest, "addr", "add", f"{GUEST_ADDRESS}/24", "dev", veth_guest)
        for netns, veth in ((svc, self.bridge), (self.guest, veth_guest), (self.guest, "lo")):
            run(ip, "-n", netns, "link", "set", veth, "up")
        run(ip, "-n", self.guest, "route", "add", "default", "via", "10.200.2.1")
        run(ip, "-n", world, "route", "add", "10.200.2.0/24", "via", SERVICE_ADDRESS)
        run(*self.exec_in(svc, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))
        tcp = [t.removeprefix("tcp:") for t in ALL_TARGETS if t.startswith("tcp:")]
        udp = [t.removeprefix("udp:") for t in ALL_TARGETS if t.startswith("udp:")]
        arguments = [a for address in tcp for a in ("--tcp", address)] + [a for address in udp for a in ("--udp", address)]
        self.world_server = subprocess.Popen(
            self.exec_in(world, sys.executable, str(HERE / "world_server.py"), *arguments),
            stdout=subprocess.PIPE, text=True,
        )
        assert self.world_server.stdout is not None
        if self.world_server.stdout.readline().strip() != "ready":
            raise RuntimeError("the test hosts in the world namespace did not start")

    def down(self) -> None:
        stop(self.world_server)
        for netns in (self.svc, self.world, self.guest):
            run(self.ip, "netns", "del", netns, check=False)

    def probe(self, *targets: str, uid: int | None = None, netns: str | None = None) -> dict[str, str]:
        """Run probe.py in a namespace (svc by default); {target: "ok" | "timeout" | ...}."""
        extra = ["--uid", str(uid)] if uid is not None else []
        result = run(*self.exec_in(netns or self.svc, sys.executable, str(HERE / "probe.py"), *extra, *targets))
        return json.loads(result.stdout)

    def load_ruleset(self, text: str) -> None:
        run(*self.exec_in(self.svc, self.nft, "-f", "-"), input=text)

    def clear_ruleset(self) -> None:
        run(*self.exec_in(self.svc, self.nft, "delete", "table", "inet", "wasmtask_egress"), check=False)

    def has_ruleset(self) -> bool:
        return run(*self.exec_in(self.svc, self.nft, "list", "table", "inet", "wasmtask_egress"), check=False).returncode == 0

    def counters(self) -> dict[str, int]:
        """Packets counted by the ruleset's commented rules, summed per comment."""
        return ruleset_counters(self.ip, self.nft, self.svc)

    def wait_for_http(self, target: str, netns: str, deadline_s: float = 30.0) -> dict[str, str]:
        """Probe ``target`` from ``netns`` until it answers 200 or the deadline passes."""
        until = time.monotonic() + deadline_s
        while True:
            result = self.probe(target, netns=netns)
            if result[target] == "ok" or time.monotonic() > until:
                return result
            time.sleep(0.2)
