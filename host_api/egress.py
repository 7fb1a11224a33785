"""The egress policy: may a guest's fetch reach this URL, and at which addresses?

A function's allow-list (``allowed_outbound_hosts``, in the spirit of Fermyon
Spin) is the grant: no list, nothing allowed. Each entry is
``scheme://host[:port]``:

- scheme: ``http``, ``https`` or ``*`` (either);
- host: a name (``api.example.com``), a wildcard over subdomains
  (``*.example.com``: any depth, not ``example.com`` itself), ``*`` (any host,
  names and IP literals), an IPv4 literal or a bracketed IPv6 literal;
- port: a number or ``*``; left out, the URL must use its scheme's default
  port (80, 443).

``decide(url, policy)`` answers without connecting:

1. The URL is parsed the WHATWG way for http(s) (what a guest's ``new URL()``
   sees): tabs and newlines dropped, ``\\`` read as ``/``, the last ``@`` ends
   the credentials, the host percent-decoded, mapped with UTS #46 (IDNA,
   lowercased) and then read as IPv4 if it ends in a number, so ``2130706433``,
   ``0177.0.0.1``, ``0x7f.1``, ``127.1`` and ``１２７。０。０。１`` are all
   127.0.0.1. Only http and https; URLs carrying credentials
   (``user:pass@``) are refused, as ``fetch()`` refuses them; IPv6 zone ids
   are refused. The decision is made from the URL, never from a Host header.
2. An IP literal is checked against the forbidden address classes (the table
   ``FORBIDDEN_NETWORKS``: loopback, private, link-local and cloud metadata,
   CGNAT, multicast, unspecified, broadcast, reserved, benchmarking,
   documentation, IETF protocol assignments, and any IPv4 embedded in an IPv6
   address: mapped, translated, compatible, NAT64, 6to4, Teredo; anything else
   not globally routable is "reserved"). A forbidden address is allowed only
   if an entry names that very literal (``http://127.0.0.1:8080``). Otherwise
   the literal must match an entry like any host.
3. A name must match an entry before anything else happens (names not on the
   list are never resolved). It is then resolved once (the resolver is
   injectable; the default is ``socket.getaddrinfo``) and every address is
   checked. Any forbidden address denies the whole URL unless either an entry
   names that IP literal for the same scheme and port (list both
   ``http://db.internal:5432`` and ``http://10.0.0.5:5432`` to reach an
   internal name), or the host is ``localhost``, an entry names ``localhost``
   explicitly (not by wildcard), and the address is loopback. So
   ``http://localhost:8080`` works for local development, a name like
   ``http://myhost.test:8080`` that resolves to 127.0.0.1 is denied, and
   ``https://*`` never reaches private space.
4. An allowed decision carries the checked addresses; the caller connects to
   exactly those (IPv4-mapped forms unwrapped), so a second DNS answer can
   never sneak in (no DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple
from urllib.parse import unquote_to_bytes

import idna

from host_api.errors import InvalidURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# resolver(host, port) -> the host's addresses (strings or ip_address objects).
# OSError (socket.gaierror) means the lookup failed; TimeoutError and anything
# that is not an OSError propagate out of ``decide``.
Resolver = Callable[[str, int], Iterable["str | IPAddress"]]

DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443}

EGRESS_DENIED: Final = "egress_denied"
FETCH_FAILED: Final = "fetch_failed"


class AddressClass(NamedTuple):
    """A forbidden kind of address: ``name`` is stable, ``note`` is for people."""

    name: str
    note: str = ""

    def describe(self) -> str:
        return f"{self.name} ({self.note})" if self.note else self.name


_net = ipaddress.ip_network

# Checked in order, most specific first. IPv4-embedding IPv6 ranges are handled
# before this table (see ``forbidden_class``).
FORBIDDEN_NETWORKS: Final[tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, AddressClass], ...]] = (
    (_net("0.0.0.0/8"), AddressClass("unspecified", "this network")),
    (_net("10.0.0.0/8"), AddressClass("private")),
    (_net("100.100.100.200/32"), AddressClass("cgnat", "shared address space; cloud metadata")),
    (_net("100.64.0.0/10"), AddressClass("cgnat", "shared address space")),
    (_net("127.0.0.0/8"), AddressClass("loopback")),
    (_net("169.254.169.254/32"), AddressClass("link-local", "cloud metadata")),
    (_net("169.254.0.0/16"), AddressClass("link-local")),
    (_net("172.16.0.0/12"), AddressClass("private")),
    (_net("192.0.0.0/24"), AddressClass("ietf-protocol", "IETF protocol assignments")),
    (_net("192.0.2.0/24"), AddressClass("documentation", "TEST-NET-1")),
    (_net("192.88.99.0/24"), AddressClass("reserved", "6to4 relay anycast")),
    (_net("192.168.0.0/16"), AddressClass("private")),
    (_net("198.18.0.0/15"), AddressClass("benchmarking")),
    (_net("198.51.100.0/24"), AddressClass("documentation", "TEST-NET-2")),
    (_net("203.0.113.0/24"), AddressClass("documentation", "TEST-NET-3")),
    (_net("224.0.0.0/4"), AddressClass("multicast")),
    (_net("255.255.255.255/32"), AddressClass("broadcast")),
    (_net("240.0.0.0/4"), AddressClass("reserved")),
    (_net("::/128"), AddressClass("unspecified")),
    (_net("::1/128"), AddressClass("loopback")),
    (_net("::/96"), AddressClass("reserved", "IPv4-compatible, deprecated")),
    (_net("64:ff9b:1::/48"), AddressClass("private", "NAT64 local use")),
    (_net("100::/64"), AddressClass("reserved", "discard only")),
    (_net("2001::/32"), AddressClass("reserved", "Teredo")),
    (_net("2001:2::/48"), AddressClass("benchmarking")),
    (_net("2001:db8::/32"), AddressClass("documentation")),
    (_net("3fff::/20"), AddressClass("documentation")),
    (_net("fd00:ec2::254/128"), AddressClass("private", "unique local; cloud metadata")),
    (_net("fc00::/7"), AddressClass("private", "unique local")),
    (_net("fe80::/10"), AddressClass("link-local")),
    (_net("fec0::/10"), AddressClass("reserved", "site-local, deprecated")),
    (_net("ff00::/8"), AddressClass("multicast")),
)

_NOT_GLOBAL: Final = AddressClass("reserved", "not globally routable")
_NAT64: Final = _net("64:ff9b::/96")
_IPV4_TRANSLATED: Final = _net("::ffff:0:0:0/96")


def embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address stands for or tunnels to, and how."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in _IPV4_TRANSLATED:
        return low32, "IPv4-translated"
    if address in _NAT64:
        return low32, "NAT64"
    if int(address) >> 32 == 0 and int(address) > 1:
        return low32, "IPv4-compatible"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    if address.teredo is not None:
        server, client = address.teredo
        return (server, "Teredo") if forbidden_class(server) and not forbidden_class(client) else (client, "Teredo")
    return None


def forbidden_class(address: IPAddress) -> AddressClass | None:
    """The forbidden class ``address`` belongs to, or None if it is public."""
    embedded = embedded_ipv4(address)
    if embedded is not None:
        inner = forbidden_class(embedded[0])
        if inner is not None:
            return inner
    for network, address_class in FORBIDDEN_NETWORKS:
        if address.version == network.version and address in network:
            return address_class
    if embedded is not None and embedded[1] in ("IPv4-mapped", "IPv4-translated", "NAT64", "6to4"):
        return None  # stands for a public IPv4 address
    if not address.is_global:
        return _NOT_GLOBAL
    return None


def describe_forbidden(address: IPAddress) -> str | None:
    """Why ``address`` is forbidden ('is link-local (cloud metadata)'), or None if public."""
    address_class = forbidden_class(address)
    if address_class is None:
        return None
    embedded = embedded_ipv4(address)
    if embedded is not None and forbidden_class(embedded[0]) is not None:
        return f"embeds {embedded[0]} ({embedded[1]}), which is {address_class.describe()}"
    return f"is {address_class.describe()}"


def connect_address(address: IPAddress) -> IPAddress:
    """The address to open a socket to: IPv4-mapped IPv6 becomes plain IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# --- WHATWG URL parsing, for the http and https ("special") schemes ---------

_TAB_AND_NEWLINE: Final = str.maketrans("", "", "\t\n\r")
_C0_AND_SPACE: Final = "".join(chr(code) for code in range(0x21))
_AUTHORITY_END: Final = "/\\?#"
_FORBIDDEN_DOMAIN_CODE_POINTS: Final = frozenset(
    [chr(code) for code in range(0x20)] + list(" #%/:<>?@[\\]^|\x7f")
)
_SCHEME_CHARACTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


@dataclass(frozen=True)
class TargetURL:
    """An http(s) URL as the WHATWG parser reads it; ``host`` is canonical."""

    scheme: str
    host: str | IPAddress  # lowercase ASCII (IDNA) name, or an address
    port: int  # explicit, or the scheme's default
    target: str  # path and query ("/" at least), no fragment
    has_credentials: bool = False

    @property
    def host_text(self) -> str:
        """The host as written in a URL: names and IPv4 as is, IPv6 in brackets."""
        if isinstance(self.host, ipaddress.IPv6Address):
            return f"[{self.host.compressed}]"
        return str(self.host)

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host_text, self.port

    @property
    def url(self) -> str:
        """The canonical URL: no credentials, no fragment, default port left out."""
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{self.host_text}{port}{self.target}"


def parse_url(url: str) -> TargetURL:
    """Parse an absolute http(s) URL like a browser would; raise InvalidURL if it is not one."""
    if not isinstance(url, str):
        raise InvalidURL("the URL must be a string")
    text = url.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINE)
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or not scheme or not scheme[0].isalpha() or not set(scheme) <= _SCHEME_CHARACTERS:
        raise InvalidURL(f"{url!r} is not an absolute URL")
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"scheme {scheme!r} is not allowed: only http and https")
    rest = rest.lstrip("/\\")
    end = min((index for index in map(rest.find, _AUTHORITY_END) if index >= 0), default=len(rest))
    authority, remainder = rest[:end], rest[end:]
    userinfo, _, host_and_port = authority.rpartition("@")
    host_text, port_text = _split_host_and_port(host_and_port)
    if not host_text:
        raise InvalidURL(f"{url!r} has no host")
    port = DEFAULT_PORTS[scheme]
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()):
            raise InvalidURL(f"{url!r} has an invalid port {port_text!r}")
        port = int(port_text)
        if not 0 < port <= 65535:
            raise InvalidURL(f"{url!r} has an out-of-range port {port}")
    host = parse_host(host_text)
    remainder = remainder.partition("#")[0]
    path, question, query = remainder.partition("?")
    path = path.replace("\\", "/") or "/"
    return TargetURL(scheme, host, port, path + question + query, has_credentials=bool(userinfo))


def _split_host_and_port(host_and_port: str) -> tuple[str, str | None]:
    """Split at the first ':' outside brackets."""
    inside_brackets = False
    for index, character in enumerate(host_and_port):
        if character == "[":
            inside_brackets = True
        elif character == "]":
            inside_brackets = False
        elif character == ":" and not inside_brackets:
            return host_and_port[:index], host_and_port[index + 1 :]
    return host_and_port, None


def parse_host(text: str) -> str | IPAddress:
    """A URL host to its canonical form: an address, or a lowercase ASCII name."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidURL(f"invalid IPv6 host {text!r}")
        inner = text[1:-1]
        if "%" in inner:
            raise InvalidURL(f"IPv6 zone identifiers are not allowed: {text!r}")
        try:
            return ipaddress.IPv6Address(inner)
        except ValueError:
            raise InvalidURL(f"invalid IPv6 host {text!r}") from None
    try:
        domain = unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidURL(f"host {text!r} is not valid UTF-8 once percent-decoded") from None
    ascii_domain = _domain_to_ascii(domain, text)
    if not ascii_domain or any(character in _FORBIDDEN_DOMAIN_CODE_POINTS for character in ascii_domain):
        raise InvalidURL(f"invalid host {text!r}")
    labels = ascii_domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    if _ends_in_number(labels):
        return _parse_ipv4(labels, text)
    if "" in labels:
        raise InvalidURL(f"host {text!r} has an empty label")
    return ascii_domain


def _domain_to_ascii(domain: str, text: str) -> str:
    """UTS #46 ToASCII, non-transitional, without STD3 rules (the WHATWG settings)."""
    if domain.isascii():
        lowered = domain.lower()
        for label in lowered.split("."):
            if label.startswith("xn--"):
                try:
                    idna.decode(label)
                except UnicodeError:
                    raise InvalidURL(f"host {text!r} has an invalid punycode label") from None
        return lowered
    try:
        return idna.encode(domain, uts46=True, transitional=False, std3_rules=False).decode("ascii")
    except UnicodeError as error:
        raise InvalidURL(f"host {text!r} is not a valid internationalized domain name: {error}") from None


def _ipv4_number(part: str) -> int | None:
    """The WHATWG IPv4 number parser: 0x.. hex, 0.. octal, else decimal."""
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0
    digits = {10: "0123456789", 8: "01234567", 16: "0123456789abcdefABCDEF"}[radix]
    if any(character not in digits for character in part):
        return None
    significant = part.lstrip("0") or "0"
    if len(significant) > 32:
        return 1 << 64  # out of range whatever the radix; spares int() a huge string
    return int(significant, radix)


def _ends_in_number(labels: list[str]) -> bool:
    last = labels[-1]
    return bool(last) and (last.isdigit() or _ipv4_number(last) is not None)


def _parse_ipv4(labels: list[str], text: str) -> ipaddress.IPv4Address:
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or None in numbers:
        raise InvalidURL(f"invalid IPv4 host {text!r}")
    checked = [number for number in numbers if number is not None]
    if any(number > 255 for number in checked[:-1]) or checked[-1] >= 256 ** (5 - len(checked)):
        raise InvalidURL(f"IPv4 host {text!r} is out of range")
    value = checked[-1] + sum(number * 256 ** (3 - index) for index, number in enumerate(checked[:-1]))
    return ipaddress.IPv4Address(value)


# --- the allow-list ---------------------------------------------------------


@dataclass(frozen=True)
class OutboundRule:
    """One allow-list entry, e.g. ``https://*.example.com`` or ``http://127.0.0.1:8080``."""

    scheme: str  # "http", "https" or "*"
    host: str | IPAddress  # a name, "*.suffix", "*", or an address
    port: int | None  # None: the scheme's default port; see ``any_port``
    any_port: bool = False
    entry: str = ""

    @classmethod
    def parse(cls, entry: str) -> OutboundRule:
        if not isinstance(entry, str):
            raise ValueError(f"allowed outbound host entries must be strings, got {entry!r}")

        def invalid(why: str) -> ValueError:
            return ValueError(f"invalid allowed outbound host {entry!r}: {why}")

        scheme, separator, rest = entry.strip().partition("://")
        scheme = scheme.lower()
        if not separator:
            raise invalid("expected scheme://host[:port], e.g. https://api.example.com")
        if scheme not in ("http", "https", "*"):
            raise invalid("the scheme must be http, https or *")
        rest = rest.removesuffix("/")
        if any(character in rest for character in "/\\?#@"):
            raise invalid("only scheme://host[:port]: no path, query, fragment or credentials")
        host_text, port_text = _split_host_and_port(rest)
        if not host_text:
            raise invalid("no host")
        port: int | None = None
        any_port = False
        if port_text == "*":
            any_port = True
        elif port_text is not None:
            if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) <= 65535):
                raise invalid("the port must be 1-65535 or *")
            port = int(port_text)
        host: str | IPAddress
        if host_text == "*":
            host = "*"
        else:
            wildcard = host_text.startswith("*.")
            try:
                parsed = parse_host(host_text[2:] if wildcard else host_text)
            except InvalidURL as error:
                raise invalid(str(error)) from None
            if "*" in str(parsed):
                raise invalid("a wildcard must be the whole host (*) or its first label (*.example.com)")
            if wildcard:
                if not isinstance(parsed, str):
                    raise invalid("a wildcard cannot cover an IP address")
                host = "*." + parsed.removesuffix(".")
            else:
                host = parsed.removesuffix(".") if isinstance(parsed, str) else parsed
        return cls(scheme, host, port, any_port, entry)

    @property
    def names_address(self) -> bool:
        return not isinstance(self.host, str)

    def matches(self, target: TargetURL) -> bool:
        if self.scheme != "*" and self.scheme != target.scheme:
            return False
        if not self.any_port and target.port != (self.port or DEFAULT_PORTS[target.scheme]):
            return False
        if self.host == "*":
            return True
        if not isinstance(self.host, str) or not isinstance(target.host, str):
            return self.host == target.host
        name = target.host.removesuffix(".")
        if self.host.startswith("*."):
            return name.endswith(self.host[1:])
        return name == self.host


@dataclass(frozen=True)
class EgressPolicy:
    """A function's allow-list. The empty policy allows nothing."""

    rules: tuple[OutboundRule, ...] = ()

    @classmethod
    def from_strings(cls, entries: Iterable[str]) -> EgressPolicy:
        """Validate entries like ``https://*.example.com``; ValueError names the bad one."""
        if isinstance(entries, (str, bytes)):
            raise ValueError("allowed outbound hosts must be a list of strings, not one string")
        return cls(tuple(OutboundRule.parse(entry) for entry in entries))

    def matching_rule(self, target: TargetURL) -> OutboundRule | None:
        return next((rule for rule in self.rules if rule.matches(target)), None)

    def grants_address(self, target: TargetURL, address: IPAddress) -> bool:
        """Does an entry name this IP literal for the target's scheme and port?"""
        literal = TargetURL(target.scheme, address, target.port, target.target)
        return any(rule.names_address and rule.matches(literal) for rule in self.rules)


@dataclass(frozen=True)
class EgressDecision:
    """The answer for one URL. ``code`` is None when allowed, else the fetch error code."""

    allowed: bool
    reason: str
    scheme: str = ""
    host: str = ""  # canonical host text ("[::1]" for IPv6)
    port: int = 0
    addresses: tuple[IPAddress, ...] = ()  # what to connect to, in order
    url: str = ""  # the canonical URL to request
    code: str | None = None  # "egress_denied" or "fetch_failed" (bad URL, DNS failure)
    target: TargetURL | None = field(default=None, repr=False)


def resolve_with_getaddrinfo(host: str, port: int) -> list[str]:
    """The default resolver: the system's getaddrinfo, TCP addresses in its order."""
    try:
        # Bytes, so the socket module's IDNA 2003 codec never sees the (already ASCII) name.
        infos = socket.getaddrinfo(host.encode("ascii"), port, type=socket.SOCK_STREAM)
    except UnicodeError as error:
        raise socket.gaierror(socket.EAI_NONAME, f"invalid host name: {error}") from None
    return [str(info[4][0]) for info in infos]


def decide(url: str, policy: EgressPolicy, resolver: Resolver | None = None) -> EgressDecision:
    """Decide, without connecting, whether a fetch of ``url`` may go ahead, and to where."""
    try:
        target = parse_url(url)
    except InvalidURL as error:
        return EgressDecision(False, error.message, code=FETCH_FAILED)
    if target.has_credentials:
        return _deny(target, f"URLs with credentials are not allowed (the host is {target.host_text})", FETCH_FAILED)

    if not isinstance(target.host, str):
        address = target.host
        problem = describe_forbidden(address)
        if problem is not None and not policy.grants_address(target, address):
            return _deny(target, f"{address} {problem}")
        rule = policy.matching_rule(target)
        if rule is None:
            return _deny(target, _not_listed(target))
        return _allow(target, rule, (connect_address(address),))

    rule = policy.matching_rule(target)
    if rule is None:
        return _deny(target, _not_listed(target))
    try:
        answers = list((resolver or resolve_with_getaddrinfo)(target.host, target.port))
    except TimeoutError:
        raise
    except OSError as error:
        return _deny(target, f"DNS lookup of {target.host} failed: {error}", FETCH_FAILED)
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer)
        except ValueError:
            return _deny(target, f"DNS lookup of {target.host} returned {answer!r}, not an address", FETCH_FAILED)
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            address = ipaddress.IPv6Address(address.compressed.partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        return _deny(target, f"DNS lookup of {target.host} returned no addresses", FETCH_FAILED)
    explicit_localhost = target.host.removesuffix(".") == "localhost" and any(
        rule.host == "localhost" and rule.matches(target) for rule in policy.rules
    )
    for address in addresses:
        problem = describe_forbidden(address)
        if problem is None or policy.grants_address(target, address):
            continue
        if explicit_localhost and forbidden_class(address) == _LOOPBACK:
            continue
        return _deny(
            target,
            f"{target.host} resolved to {address}, which {problem}; "
            "only an entry naming that IP literal (or localhost) grants it",
        )
    return _allow(target, rule, tuple(dict.fromkeys(connect_address(address) for address in addresses)))


_LOOPBACK: Final = AddressClass("loopback")


def _not_listed(target: TargetURL) -> str:
    return f"{target.scheme}://{target.host_text}:{target.port} is not on the function's allowed outbound hosts"


def _allow(target: TargetURL, rule: OutboundRule, addresses: tuple[IPAddress, ...]) -> EgressDecision:
    return EgressDecision(
        True,
        f"allowed by {rule.entry!r}",
        target.scheme,
        target.host_text,
        target.port,
        addresses,
        target.url,
        None,
        target,
    )


def _deny(target: TargetURL, reason: str, code: str = EGRESS_DENIED) -> EgressDecision:
    return EgressDecision(False, reason, target.scheme, target.host_text, target.port, (), target.url, code, target)
