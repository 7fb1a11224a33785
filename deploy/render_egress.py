"""Render deploy/egress.nft for one deployment: fill its sets from configuration.

The ruleset's rules are fixed; a deployment only says what it may reach:

    python deploy/render_egress.py --resolver 10.0.0.2 --allow 10.200.1.2:8080 \\
        --public-ports 80,443 > /run/wasmtask-egress.nft
    nft -f /run/wasmtask-egress.nft

or the same from a TOML file (``--config egress.toml``)::

    resolvers = ["10.0.0.2"]
    allow = ["10.200.1.2:8080", "10.30.0.0/16:443", "[fd00::5]:8443"]
    public_ports = [80, 443]
    uid = 10001            # optional: only this user's traffic is filtered, or
    # forward_from = ["wasmtask0"]   traffic routed from a container bridge

``--allow`` takes ``ADDRESS[/PREFIX][:PORT[-PORT]]`` (IPv6 in brackets when a
port follows); without a port every port is allowed. An allow entry is the only
way to reach a private range; the metadata addresses stay dropped whatever is
allowed. The scope: by default every process of the network namespace the
ruleset is loaded into (a container's, or one made for the service); with
``--uid`` one user's processes; with ``--forward-from IFACE`` the traffic a host
routes from that interface (the bridge of a compose network), and not the
host's own.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

TABLE = "inet wasmtask_egress"
RULESET = Path(__file__).resolve().parent / "egress.nft"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class EgressConfigError(ValueError):
    """A configuration entry that cannot be turned into set elements."""


@dataclass(frozen=True)
class Destination:
    """One allow-list entry: a network and an inclusive port range."""

    network: Network
    first_port: int = 0
    last_port: int = 65535

    def element(self) -> str:
        ports = str(self.first_port) if self.first_port == self.last_port else f"{self.first_port}-{self.last_port}"
        return f"{_address(self.network)} . {ports}"


@dataclass(frozen=True)
class EgressConfig:
    """What the service may reach. Empty means: loopback and replies only."""

    resolvers: tuple[Network, ...] = ()
    allow: tuple[Destination, ...] = ()
    public_ports: tuple[tuple[int, int], ...] = ()
    uid: int | None = None
    forward_from: tuple[str, ...] = ()


def _address(network: Network) -> str:
    """``10.0.0.5`` for a single address, ``10.0.0.0/8`` for a network."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def parse_ports(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise EgressConfigError(f"bad port or port range {text!r}") from None
    if not 0 <= low <= high <= 65535:
        raise EgressConfigError(f"port range {text!r} is outside 0-65535")
    return low, high


def parse_network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise EgressConfigError(f"{text!r} is not an IP address or network (names are not allowed)") from None


def parse_destination(text: str) -> Destination:
    """``10.0.0.5``, ``10.0.0.0/8:443``, ``10.0.0.5:8000-8100``, ``[fd00::1]:443``, ``fd00::/8``."""
    text = text.strip()
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise EgressConfigError(f"bad destination {text!r}")
        ports = rest[1:]
    elif text.count(":") == 1:
        address, _, ports = text.partition(":")
    else:  # a bare IPv4 network or a bare IPv6 network (no port)
        address, ports = text, ""
    network = parse_network(address)
    low, high = parse_ports(ports) if ports else (0, 65535)
    return Destination(network, low, high)


def parse_interface(name: str) -> str:
    if not (0 < len(name) <= 15) or not all(c.isalnum() or c in "-_.+" for c in name):
        raise EgressConfigError(f"bad interface name {name!r}")
    return name


def config_from(
    resolvers: list[str], allow: list[str], public_ports: list[str | int], uid: int | None = None,
    forward_from: list[str] | None = None,
) -> EgressConfig:
    ports: list[tuple[int, int]] = []
    for item in public_ports:
        for part in str(item).split(","):
            if part.strip():
                ports.append(parse_ports(part.strip()))
    return EgressConfig(
        resolvers=tuple(parse_network(r) for r in resolvers),
        allow=tuple(parse_destination(a) for a in allow),
        public_ports=tuple(ports),
        uid=uid,
        forward_from=tuple(parse_interface(name) for name in forward_from or []),
    )


def load_config(path: Path) -> EgressConfig:
    data = tomllib.loads(path.read_text())
    unknown = set(data) - {"resolvers", "allow", "public_ports", "uid", "forward_from"}
    if unknown:
        raise EgressConfigError(f"{path}: unknown keys {sorted(unknown)}")
    return config_from(
        data.get("resolvers", []), data.get("allow", []), data.get("public_ports", []), data.get("uid"),
        data.get("forward_from", []),
    )


def merge(base: EgressConfig, more: EgressConfig) -> EgressConfig:
    return EgressConfig(
        resolvers=base.resolvers + more.resolvers,
        allow=base.allow + more.allow,
        public_ports=base.public_ports + more.public_ports,
        uid=more.uid if more.uid is not None else base.uid,
        forward_from=base.forward_from + more.forward_from,
    )


def _add_elements(set_name: str, elements: list[str]) -> list[str]:
    if not elements:
        return []
    return [f"add element {TABLE} {set_name} {{ {', '.join(elements)} }}"]


def render(config: EgressConfig, ruleset: Path = RULESET) -> str:
    """The ruleset file plus this configuration, as one `nft -f` transaction."""
    lines = [ruleset.read_text().rstrip("\n"), "", "# --- configuration (render_egress.py) ---"]
    for version, suffix in ((4, "v4"), (6, "v6")):
        resolvers = [_address(r) for r in config.resolvers if r.version == version]
        lines += _add_elements(f"resolvers_{suffix}", resolvers)
        allowed = [d.element() for d in config.allow if d.network.version == version]
        lines += _add_elements(f"allow_{suffix}", allowed)
    ports = [str(low) if low == high else f"{low}-{high}" for low, high in config.public_ports]
    lines += _add_elements("public_ports", ports)
    if config.uid is not None and config.forward_from:
        raise EgressConfigError("uid and forward_from are two different scopes: pick one")
    if config.uid is not None:
        lines.append(f"insert rule {TABLE} output meta skuid != {int(config.uid)} accept")
    if config.forward_from:
        scope = ", ".join(config.forward_from)
        lines.append(f'insert rule {TABLE} output accept comment "scope: traffic forwarded from {scope}"')
        for interface in config.forward_from:
            lines.append(f'add rule {TABLE} forward iifname "{interface}" jump egress')
            lines.append(f'add rule {TABLE} input iifname "{interface}" jump egress')
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Render the wasmtask egress ruleset (deploy/egress.nft) with a configuration.")
    add_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The configuration options, shared with launch.py."""
    group = parser.add_argument_group("egress configuration")
    group.add_argument("--config", type=Path, help="TOML file with resolvers, allow, public_ports, uid")
    group.add_argument("--resolver", action="append", default=[], metavar="IP",
                       help="DNS resolver the service may query (repeatable)")
    group.add_argument("--allow", action="append", default=[], metavar="NET[:PORTS]",
                       help="allowed destination, e.g. 10.200.1.2:8080 (repeatable)")
    group.add_argument("--public-ports", action="append", default=[], metavar="PORTS",
                       help="ports open to public (non-private) addresses, e.g. 80,443")
    group.add_argument("--uid", type=int, help="filter only this user's traffic (default: the whole network namespace)")
    group.add_argument("--forward-from", action="append", default=[], metavar="IFACE",
                       help="filter traffic routed from this interface (a container bridge) instead of local traffic")


def config_from_args(args: argparse.Namespace) -> EgressConfig:
    config = load_config(args.config) if args.config else EgressConfig()
    return merge(config, config_from(args.resolver, args.allow, args.public_ports, args.uid, args.forward_from))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        text = render(config_from_args(args))
    except (EgressConfigError, tomllib.TOMLDecodeError, OSError) as exc:
        print(f"render_egress: {exc}", file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
