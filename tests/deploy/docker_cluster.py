"""deploy/compose.yaml's services in a private dockerd, without Compose and without a bridge.

Each service runs with the ``docker run`` flags compose_file.py derives from
compose.yaml (environment, limits, lock-down, volumes, healthcheck); only the
network is the test's own, so the root namespace is never touched:

    hub   a network namespace standing in for the host that routes the bridge:
          172.28.0.254/32 on each link, a /32 route to each container; the
          test's clients and stand-in hosts run here, and the egress ruleset
          is loaded here (--forward-from the links, as on a host's bridge)
    each service
          a holder container (--network none, the names Compose's DNS would
          answer as --add-host) whose namespace gets a veth to the hub and the
          service's address (compose.yaml's ipv4_address for Redis and
          PostgreSQL); the service's own container joins it
          (--network container:), so its network exists before it starts.

Services start in depends_on order, each once the ones it depends on report
healthy (as ``condition: service_healthy`` makes Compose do).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy import compose_file, netlab
from tests.deploy.docker_engine import DockerEngine

HERE = Path(__file__).resolve().parent
HUB_ADDRESS = "172.28.0.254"
FIRST_FREE = 21  # services without an ipv4_address get 172.28.0.21, .22, ...


@dataclass
class Member:
    service: str
    address: str
    holder: str  # container names
    container: str
    netns: str  # the holder's namespace, attached under this name
    link: str  # the hub's end of its veth


@dataclass
class Cluster:
    engine: DockerEngine
    ip: str
    document: dict[str, Any]  # compose.yaml, variables substituted
    images: dict[str, str]  # service -> the image the test built for it
    holder_image: str
    prefix: str
    members: dict[str, Member] = field(default_factory=dict)

    @property
    def hub(self) -> str:
        return f"{self.prefix}-hub"

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return dict(self.document["services"])

    def addresses(self) -> dict[str, str]:
        """compose.yaml's ipv4_address where it gives one; the others in order from FIRST_FREE."""
        fixed = {name: str(((service.get("networks") or {}).get("default") or {}).get("ipv4_address") or "")
                 for name, service in self.services.items()}
        free = (f"172.28.0.{n}" for n in range(FIRST_FREE, 254) if f"172.28.0.{n}" not in fixed.values())
        return {name: address or next(free) for name, address in sorted(fixed.items())}

    def start_order(self) -> list[str]:
        order: list[str] = []
        pending = dict(self.services)
        while pending:
            ready = [name for name, service in pending.items() if set(service.get("depends_on") or {}) <= set(order)]
            if not ready:
                raise ValueError(f"depends_on cycle among {sorted(pending)}")
            order += sorted(ready)
            for name in ready:
                del pending[name]
        return order

    def up(self, health_deadline_s: float = 120) -> None:
        netlab.run(self.ip, "netns", "add", self.hub)
        netlab.run(self.ip, "-n", self.hub, "link", "set", "lo", "up")
        netlab.run(self.ip, "netns", "exec", self.hub, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        addresses = self.addresses()
        for index, name in enumerate(self.start_order()):
            for dependency in self.services[name].get("depends_on") or {}:
                self.wait_healthy(dependency, health_deadline_s)
            self.start(name, index, addresses)
        for name in self.services:
            self.wait_healthy(name, health_deadline_s)

    def start(self, name: str, index: int, addresses: dict[str, str]) -> None:
        ip, hub = self.ip, self.hub
        member = Member(name, addresses[name], f"{self.prefix}-{name}-net", f"{self.prefix}-{name}",
                        f"{self.prefix}-{name}", f"{self.prefix}h{index}")
        self.members[name] = member
        hosts = [a for other, address in addresses.items() for a in ("--add-host", f"{other}:{address}")]
        self.engine.cli("run", "-d", "--name", member.holder, "--network", "none", "--read-only", "--cap-drop", "ALL",
                        "--security-opt", "no-new-privileges", *hosts, self.holder_image, "sleep", "infinity")
        pid = self.engine.cli("inspect", "-f", "{{.State.Pid}}", member.holder).stdout.strip()
        netlab.run(ip, "netns", "attach", member.netns, pid)
        inside = f"{self.prefix}c{index}"
        netlab.run(ip, "-n", hub, "link", "add", member.link, "type", "veth", "peer", "name", inside, "netns", member.netns)
        netlab.run(ip, "-n", hub, "addr", "add", f"{HUB_ADDRESS}/32", "dev", member.link)
        netlab.run(ip, "-n", hub, "link", "set", member.link, "up")
        netlab.run(ip, "-n", hub, "route", "add", f"{member.address}/32", "dev", member.link)
        netlab.run(ip, "-n", member.netns, "addr", "add", f"{member.address}/32", "dev", inside)
        netlab.run(ip, "-n", member.netns, "link", "set", inside, "up")
        netlab.run(ip, "-n", member.netns, "route", "add", HUB_ADDRESS, "dev", inside, "scope", "link")
        netlab.run(ip, "-n", member.netns, "route", "add", "172.28.0.0/24", "via", HUB_ADDRESS)
        flags, command = compose_file.run_arguments(self.services[name], project=self.prefix,
                                                    volumes=self.document.get("volumes"), health_interval="1s")
        self.engine.cli("run", "-d", "--name", member.container, "--network", f"container:{member.holder}",
                        *flags, self.images[name], *command)

    def health(self, service: str) -> str:
        result = self.engine.cli("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}",
                                 self.members[service].container, check=False)
        return result.stdout.strip()

    def wait_healthy(self, service: str, deadline_s: float) -> None:
        until = time.monotonic() + deadline_s
        while (status := self.health(service)) != "running healthy":
            if time.monotonic() > until or status.startswith(("exited", "dead")):
                logs = self.engine.cli("logs", "--tail", "40", self.members[service].container, check=False)
                raise RuntimeError(f"{service} is not healthy ({status}):\n{logs.stdout}{logs.stderr}")
            time.sleep(0.5)

    def url(self, service: str) -> str:
        return f"http://{self.members[service].address}:8080"

    def hub_python(self, script: str, *arguments: str, timeout: float = 180) -> dict[str, Any]:
        """A script of tests/deploy run in the hub by the test's Python; its JSON output."""
        result = netlab.run(self.ip, "netns", "exec", self.hub, sys.executable, str(HERE / script), *arguments,
                            timeout=timeout)
        return dict(json.loads(result.stdout))

    def probe_from(self, service: str, *targets: str) -> dict[str, str]:
        """probe.py run by the service's own Python, as its user, inside its container."""
        result = self.engine.cli("exec", "-i", self.members[service].container, "python", "-", *targets,
                                 input=(HERE / "probe.py").read_text())
        return dict(json.loads(result.stdout))

    def down(self) -> None:
        for member in reversed(list(self.members.values())):
            self.engine.cli("rm", "-f", "-v", member.container, member.holder, check=False)
            netlab.run(self.ip, "netns", "del", member.netns, check=False)
        for volume in self.document.get("volumes") or {}:
            self.engine.cli("volume", "rm", "-f", compose_file.volume_name(self.prefix, self.document["volumes"], volume),
                            check=False)
        netlab.run(self.ip, "netns", "del", self.hub, check=False)
