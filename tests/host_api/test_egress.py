"""egress.decide: every answer here is reached without connecting anywhere."""

from __future__ import annotations

import ipaddress

import pytest

from host_api.egress import (
    FORBIDDEN_NETWORKS,
    EgressPolicy,
    OutboundRule,
    decide,
    forbidden_class,
    parse_url,
)
from tests.host_api.conftest import FakeDNS

EVERYTHING = EgressPolicy.from_strings(["http://*:*", "https://*:*"])


def dns() -> FakeDNS:
    return FakeDNS(
        {
            "localhost": ["127.0.0.1", "::1"],
            "localhost.": ["127.0.0.1"],
            "example.com": ["93.184.215.14"],
            "example.com.": ["93.184.215.14"],
            "xn--bcher-kva.example": ["93.184.215.15"],
            "v6.example": ["2606:4700:4700::1111"],
            "metadata.google.internal": ["169.254.169.254"],
            "internal.test": ["10.1.2.3"],
            "rebind.test": ["93.184.215.14", "10.0.0.1"],
            "mapped.test": ["::ffff:127.0.0.1"],
            "db.internal": ["10.0.0.5"],
            "myhost.test": ["127.0.0.1"],
        }
    )


# (url as a guest might spell it, the host it really is, the forbidden class)
FORBIDDEN = [
    # loopback, and the many ways to write 127.0.0.1
    ("http://127.0.0.1/", "127.0.0.1", "loopback"),
    ("http://127.1/", "127.0.0.1", "loopback"),
    ("http://127.0.1/", "127.0.0.1", "loopback"),
    ("http://2130706433/", "127.0.0.1", "loopback"),
    ("http://0x7f000001/", "127.0.0.1", "loopback"),
    ("http://017700000001/", "127.0.0.1", "loopback"),
    ("http://0177.0.0.1/", "127.0.0.1", "loopback"),
    ("http://0x7f.0.0.1/", "127.0.0.1", "loopback"),
    ("http://0x7F.1/", "127.0.0.1", "loopback"),
    ("http://0177.0x0.00.0x1/", "127.0.0.1", "loopback"),
    ("http://127.000.000.001/", "127.0.0.1", "loopback"),
    ("http://127.0.0.1./", "127.0.0.1", "loopback"),
    ("http://127.255.255.254/", "127.255.255.254", "loopback"),
    ("http://%31%32%37.0.0.1/", "127.0.0.1", "loopback"),
    ("http://\uff11\uff12\uff17\u3002\uff10\u3002\uff10\u3002\uff11/", "127.0.0.1", "loopback"),
    ("http://[::1]/", "[::1]", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "[::1]", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]", "loopback"),
    ("http://[::ffff:7f00:1]/", "[::ffff:7f00:1]", "loopback"),
    ("http://[::ffff:0:127.0.0.1]/", "[::ffff:0:7f00:1]", "loopback"),
    ("http://[::127.0.0.1]/", "[::7f00:1]", "loopback"),
    ("http://[64:ff9b::127.0.0.1]/", "[64:ff9b::7f00:1]", "loopback"),
    ("http://[2002:7f00:1::]/", "[2002:7f00:1::]", "loopback"),
    ("http://localhost/", "localhost", "loopback"),
    ("http://LOCALHOST./", "localhost.", "loopback"),
    ("http://mapped.test/", "mapped.test", "loopback"),
    # unspecified
    ("http://0/", "0.0.0.0", "unspecified"),
    ("http://0.0.0.0/", "0.0.0.0", "unspecified"),
    ("http://0x0/", "0.0.0.0", "unspecified"),
    ("http://0.1.2.3/", "0.1.2.3", "unspecified"),
    ("http://[::]/", "[::]", "unspecified"),
    ("http://[::ffff:0.0.0.0]/", "[::ffff:0:0]", "unspecified"),
    # private
    ("http://10.0.0.1/", "10.0.0.1", "private"),
    ("http://10.1/", "10.0.0.1", "private"),
    ("http://167772161/", "10.0.0.1", "private"),
    ("http://172.16.0.1/", "172.16.0.1", "private"),
    ("http://172.31.255.255/", "172.31.255.255", "private"),
    ("http://192.168.1.1/", "192.168.1.1", "private"),
    ("http://0xc0a80101/", "192.168.1.1", "private"),
    ("http://0300.0250.1.1/", "192.168.1.1", "private"),
    ("http://[fc00::1]/", "[fc00::1]", "private"),
    ("http://[fd12:3456::1]/", "[fd12:3456::1]", "private"),
    ("http://[fd00:ec2::254]/", "[fd00:ec2::254]", "private"),
    ("http://[::ffff:10.0.0.1]/", "[::ffff:a00:1]", "private"),
    ("http://[::ffff:192.168.0.1]/", "[::ffff:c0a8:1]", "private"),
    ("http://[64:ff9b::10.0.0.1]/", "[64:ff9b::a00:1]", "private"),
    ("http://[64:ff9b:1::1]/", "[64:ff9b:1::1]", "private"),
    ("http://internal.test/", "internal.test", "private"),
    ("http://rebind.test/", "rebind.test", "private"),
    # link-local, with the cloud metadata address first
    ("http://169.254.169.254/", "169.254.169.254", "link-local"),
    ("http://0xa9fea9fe/", "169.254.169.254", "link-local"),
    ("http://2852039166/", "169.254.169.254", "link-local"),
    ("http://0251.0376.0251.0376/", "169.254.169.254", "link-local"),
    ("http://169.254.43518/", "169.254.169.254", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "[::ffff:a9fe:a9fe]", "link-local"),
    ("http://[::ffff:a9fe:a9fe]/", "[::ffff:a9fe:a9fe]", "link-local"),
    ("http://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe]", "link-local"),
    ("http://[2002:a9fe:a9fe::1]/", "[2002:a9fe:a9fe::1]", "link-local"),
    ("http://169.254.1.1/", "169.254.1.1", "link-local"),
    ("http://[fe80::1]/", "[fe80::1]", "link-local"),
    ("http://metadata.google.internal/", "metadata.google.internal", "link-local"),
    # carrier-grade NAT (and Alibaba's metadata address inside it)
    ("http://100.64.0.1/", "100.64.0.1", "cgnat"),
    ("http://100.127.255.255/", "100.127.255.255", "cgnat"),
    ("http://100.100.100.200/", "100.100.100.200", "cgnat"),
    # multicast
    ("http://224.0.0.1/", "224.0.0.1", "multicast"),
    ("http://239.255.255.250/", "239.255.255.250", "multicast"),
    ("http://[ff02::1]/", "[ff02::1]", "multicast"),
    # broadcast
    ("http://255.255.255.255/", "255.255.255.255", "broadcast"),
    ("http://4294967295/", "255.255.255.255", "broadcast"),
    ("http://0xffffffff/", "255.255.255.255", "broadcast"),
    # reserved
    ("http://240.0.0.1/", "240.0.0.1", "reserved"),
    ("http://[::ffff:240.0.0.1]/", "[::ffff:f000:1]", "reserved"),
    ("http://[::8.8.8.8]/", "[::808:808]", "reserved"),
    ("http://[fec0::1]/", "[fec0::1]", "reserved"),
    ("http://[100::1]/", "[100::1]", "reserved"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "documentation"),
    # benchmarking
    ("http://198.18.0.1/", "198.18.0.1", "benchmarking"),
    ("http://198.19.255.255/", "198.19.255.255", "benchmarking"),
    ("http://[2001:2::1]/", "[2001:2::1]", "benchmarking"),
    # documentation
    ("http://192.0.2.1/", "192.0.2.1", "documentation"),
    ("http://198.51.100.7/", "198.51.100.7", "documentation"),
    ("http://203.0.113.9/", "203.0.113.9", "documentation"),
    ("http://[2001:db8::1]/", "[2001:db8::1]", "documentation"),
    # IETF protocol assignments
    ("http://192.0.0.1/", "192.0.0.1", "ietf-protocol"),
    ("http://192.0.0.170/", "192.0.0.170", "ietf-protocol"),
]


@pytest.mark.parametrize(("url", "host", "address_class"), FORBIDDEN, ids=[row[0] for row in FORBIDDEN])
def test_forbidden_addresses_are_denied_even_by_a_wildcard(url: str, host: str, address_class: str) -> None:
    decision = decide(url, EVERYTHING, dns())

    assert decision.allowed is False
    assert decision.code == "egress_denied"
    assert decision.host == host
    assert f" {address_class}" in decision.reason
    assert decision.addresses == ()


def test_the_metadata_address_is_named_as_such() -> None:
    decision = decide("http://0xA9FEA9FE/latest/meta-data/", EVERYTHING)

    assert decision.reason == "169.254.169.254 is link-local (cloud metadata)"


def test_an_embedded_address_is_explained() -> None:
    decision = decide("http://[::ffff:127.0.0.1]/", EVERYTHING)

    assert decision.reason == "::ffff:7f00:1 embeds 127.0.0.1 (IPv4-mapped), which is loopback"


def test_a_name_resolving_to_a_forbidden_address_says_so() -> None:
    decision = decide("http://rebind.test/", EVERYTHING, dns())

    assert decision.reason.startswith("rebind.test resolved to 10.0.0.1, which is private")


def test_every_table_class_is_exercised() -> None:
    classes = {address_class.name for _, address_class in FORBIDDEN_NETWORKS}

    assert classes <= {row[2] for row in FORBIDDEN}


# (url, the addresses to connect to)
ALLOWED = [
    ("http://example.com/", ["93.184.215.14"]),
    ("https://EXAMPLE.com./path?q=1", ["93.184.215.14"]),
    ("http://b\u00fccher.example/", ["93.184.215.15"]),
    ("http://B\u00dcCHER.example/", ["93.184.215.15"]),
    ("http://xn--bcher-kva.example/", ["93.184.215.15"]),
    ("https://v6.example/", ["2606:4700:4700::1111"]),
    ("http://8.8.8.8/", ["8.8.8.8"]),
    ("http://134744072/", ["8.8.8.8"]),
    ("http://0x8.0x8.0x8.0x8/", ["8.8.8.8"]),
    ("https://[2606:4700:4700::1111]/", ["2606:4700:4700::1111"]),
    ("http://[::ffff:8.8.8.8]/", ["8.8.8.8"]),
    ("http://[64:ff9b::8.8.8.8]/", ["64:ff9b::808:808"]),
    ("http://[2002:808:808::1]/", ["2002:808:808::1"]),
]


@pytest.mark.parametrize(("url", "addresses"), ALLOWED, ids=[row[0] for row in ALLOWED])
def test_public_addresses_are_allowed_by_a_wildcard(url: str, addresses: list[str]) -> None:
    decision = decide(url, EVERYTHING, dns())

    assert decision.allowed is True, decision.reason
    assert decision.code is None
    assert [str(address) for address in decision.addresses] == addresses


def test_idna_hosts_are_lowercased_punycode() -> None:
    decision = decide("http://B\u00dcCHER.example/", EVERYTHING, dns())

    assert decision.host == "xn--bcher-kva.example"
    assert decision.url == "http://xn--bcher-kva.example/"


# (url, the host the WHATWG parser sees, allowed under a policy for api.example.com)
TRICKS = [
    ("http://api.example.com@169.254.169.254/", "169.254.169.254", False),
    ("http://user:pass@api.example.com/", "api.example.com", False),
    ("http://a@b@169.254.169.254/", "169.254.169.254", False),
    ("http://api.example.com\\@169.254.169.254/", "api.example.com", True),
    ("http://169.254.169.254\\.api.example.com/", "169.254.169.254", False),
    ("http://api.example.com#@169.254.169.254/", "api.example.com", True),
    ("http://api.example.com?@169.254.169.254/", "api.example.com", True),
    ("http:/\\169.254.169.254/", "169.254.169.254", False),
    ("http:api.example.com/", "api.example.com", True),
    ("  http://api.example.com/  ", "api.example.com", True),
    ("ht\ttp://api.exa\nmple.com/", "api.example.com", True),
    ("HTTP://API.EXAMPLE.COM/", "api.example.com", True),
    ("http://api.example.com.evil.test/", "api.example.com.evil.test", False),
    ("http://api.example.com:80/", "api.example.com", True),
    ("http://api.example.com:8080/", "api.example.com", False),
]


@pytest.mark.parametrize(("url", "host", "allowed"), TRICKS, ids=[row[0] for row in TRICKS])
def test_url_tricks_are_judged_by_the_real_host(url: str, host: str, allowed: bool) -> None:
    policy = EgressPolicy.from_strings(["http://api.example.com"])
    resolver = FakeDNS({"api.example.com": ["93.184.215.20"]})

    decision = decide(url, policy, resolver)

    assert decision.host == host
    assert decision.allowed is allowed, decision.reason


def test_credentials_are_refused_like_fetch_does() -> None:
    decision = decide("http://user:pass@api.example.com/", EgressPolicy.from_strings(["http://api.example.com"]))

    assert decision.code == "fetch_failed"
    assert "credentials" in decision.reason


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "/relative/path",
        "http://",
        "http://:80/",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://example.com:8o/",
        "http://1.2.3.4.5/",
        "http://256.0.0.1/",
        "http://1.2.3.256/",
        "http://0x100000000/",
        "http://foo.0x10/",
        "http://[fe80::1%25eth0]/",
        "http://[::1%lo]/",
        "http://[::1/",
        "http://[::ffff:127.0.0.01]/",
        "http://exa mple.com/",
        "http://exa%00mple.com/",
        "http://a..b/",
        "http://%ff/",
        "http://xn--a/",
    ],
)
def test_invalid_urls_fail_without_a_lookup(url: str) -> None:
    resolver = FakeDNS({})

    decision = decide(url, EVERYTHING, resolver)

    assert decision.allowed is False
    assert decision.code == "fetch_failed"
    assert resolver.lookups == []


def test_no_policy_allows_nothing() -> None:
    resolver = dns()

    decision = decide("https://example.com/", EgressPolicy(), resolver)

    assert decision.allowed is False
    assert decision.code == "egress_denied"
    assert "not on the function's allowed outbound hosts" in decision.reason
    assert resolver.lookups == []


# (allow-list, url, allowed)
MATCHING = [
    (["https://api.example.com"], "https://api.example.com/v1", True),
    (["https://api.example.com"], "http://api.example.com/", False),
    (["https://api.example.com"], "https://api.example.com:8443/", False),
    (["https://api.example.com"], "https://www.example.com/", False),
    (["https://*.example.com"], "https://a.example.com/", True),
    (["https://*.example.com"], "https://a.b.example.com/", True),
    (["https://*.example.com"], "https://example.com/", False),
    (["https://*.example.com"], "https://badexample.com/", False),
    (["https://*.example.com"], "https://example.com.evil.test/", False),
    (["http://localhost:*"], "http://localhost:1234/", True),
    (["http://localhost:*"], "https://localhost:1234/", False),
    (["*://example.com:443"], "https://example.com/", True),
    (["*://example.com:443"], "http://example.com:443/", True),
    (["*://example.com:443"], "http://example.com/", False),
    (["*://example.com"], "http://example.com/", True),
    (["*://example.com"], "https://example.com/", True),
    (["https://*"], "https://example.com/", True),
    (["https://*"], "https://8.8.8.8/", True),
    (["https://*"], "https://example.com:8443/", False),
    (["https://*"], "http://example.com/", False),
    (["https://*"], "https://10.0.0.1/", False),
    (["https://*"], "https://localhost/", False),
    (["https://8.8.8.8"], "https://134744072/", True),
    (["http://[2606:4700:4700::1111]:8080"], "http://[2606:4700:4700:0::1111]:8080/", True),
]


@pytest.mark.parametrize(("entries", "url", "allowed"), MATCHING, ids=[f"{row[0][0]} {row[1]}" for row in MATCHING])
def test_allow_list_matching(entries: list[str], url: str, allowed: bool) -> None:
    resolver = FakeDNS(
        {name: ["93.184.215.14"] for name in ("api.example.com", "a.example.com", "a.b.example.com", "example.com")}
        | {"localhost": ["127.0.0.1"]}
    )

    decision = decide(url, EgressPolicy.from_strings(entries), resolver)

    assert decision.allowed is allowed, decision.reason


def test_names_not_on_the_list_are_never_resolved() -> None:
    resolver = dns()

    decide("https://example.com/", EgressPolicy.from_strings(["https://api.example.com"]), resolver)

    assert resolver.lookups == []


def test_an_allowed_name_is_resolved_once_and_every_address_is_returned() -> None:
    answers = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"]
    resolver = FakeDNS({"api.example.com": answers})

    decision = decide("https://api.example.com/", EgressPolicy.from_strings(["https://api.example.com"]), resolver)

    assert resolver.lookups == ["api.example.com"]
    assert decision.addresses == (
        ipaddress.ip_address("93.184.215.14"),
        ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    )


def test_an_explicit_ip_literal_grants_that_address() -> None:
    policy = EgressPolicy.from_strings(["http://127.0.0.1:8080", "http://[::1]:8080"])

    assert decide("http://127.0.0.1:8080/", policy).allowed
    assert decide("http://127.1:8080/", policy).allowed
    assert decide("http://2130706433:8080/", policy).allowed
    assert decide("http://[::1]:8080/", policy).allowed
    assert not decide("http://127.0.0.1:8081/", policy).allowed
    assert not decide("http://127.0.0.2:8080/", policy).allowed
    assert not decide("http://[::ffff:127.0.0.1]:8080/", policy).allowed


def test_an_explicit_localhost_entry_grants_loopback_only() -> None:
    policy = EgressPolicy.from_strings(["http://localhost:8080"])

    allowed = decide("http://localhost:8080/", policy, FakeDNS({"localhost": ["127.0.0.1", "::1"]}))
    elsewhere = decide("http://localhost:8080/", policy, FakeDNS({"localhost": ["10.0.0.1"]}))

    assert allowed.allowed
    assert [str(address) for address in allowed.addresses] == ["127.0.0.1", "::1"]
    assert not elsewhere.allowed
    assert "10.0.0.1, which is private" in elsewhere.reason


def test_a_wildcard_does_not_stand_for_localhost() -> None:
    policy = EgressPolicy.from_strings(["http://*:8080"])

    decision = decide("http://localhost:8080/", policy, FakeDNS({"localhost": ["127.0.0.1"]}))

    assert not decision.allowed


def test_a_hostname_entry_resolving_to_loopback_is_denied() -> None:
    policy = EgressPolicy.from_strings(["http://myhost.test:8080"])

    decision = decide("http://myhost.test:8080/", policy, dns())

    assert not decision.allowed
    assert decision.code == "egress_denied"
    assert decision.reason.startswith("myhost.test resolved to 127.0.0.1, which is loopback")


def test_an_internal_name_needs_its_address_listed_too() -> None:
    name_only = EgressPolicy.from_strings(["http://db.internal:5432"])
    name_and_address = EgressPolicy.from_strings(["http://db.internal:5432", "http://10.0.0.5:5432"])

    assert not decide("http://db.internal:5432/", name_only, dns()).allowed
    assert decide("http://db.internal:5432/", name_and_address, dns()).allowed


def test_one_forbidden_answer_denies_the_whole_name() -> None:
    decision = decide("http://rebind.test/", EVERYTHING, dns())

    assert not decision.allowed
    assert decision.addresses == ()


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({}, "DNS lookup of api.example.com failed"),
        ({"api.example.com": []}, "returned no addresses"),
        ({"api.example.com": ["not-an-ip"]}, "not an address"),
    ],
)
def test_dns_failures_are_fetch_failures(answers: dict[str, list[str]], reason: str) -> None:
    decision = decide("http://api.example.com/", EVERYTHING, FakeDNS(answers))

    assert decision.code == "fetch_failed"
    assert reason in decision.reason


def test_the_canonical_url_drops_credentials_fragment_and_default_port() -> None:
    target = parse_url("HTTP://0x7f.1:80/a\\b?x=1#frag")

    assert target.url == "http://127.0.0.1/a/b?x=1"
    assert target.port == 80


def test_anything_else_not_globally_routable_is_reserved() -> None:
    address_class = forbidden_class(ipaddress.ip_address("2001:10::1"))  # ORCHID, not in our table

    assert address_class is not None
    assert address_class.describe() == "reserved (not globally routable)"


@pytest.mark.parametrize(
    "entry",
    [
        "example.com",
        "ftp://example.com",
        "https://",
        "https://:443",
        "https://exa mple.com",
        "https://*example.com",
        "https://a.*.com",
        "https://*.*.com",
        "https://*.10.0.0.1",
        "https://example.com/path",
        "https://example.com?q",
        "https://user@example.com",
        "https://example.com:99999",
        "https://example.com:0",
        "https://example.com:http",
        "https://[::1",
        "http://10.0.0.0/8",
    ],
)
def test_bad_entries_are_rejected_with_a_clear_message(entry: str) -> None:
    with pytest.raises(ValueError, match="invalid allowed outbound host"):
        EgressPolicy.from_strings([entry])


def test_entries_must_be_a_list_of_strings() -> None:
    with pytest.raises(ValueError, match="list of strings"):
        EgressPolicy.from_strings("https://example.com")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be strings"):
        EgressPolicy.from_strings([42])  # type: ignore[list-item]


def test_the_documented_entry_forms_parse() -> None:
    policy = EgressPolicy.from_strings(
        [
            "https://api.example.com",
            "http://127.0.0.1:8080",
            "https://*.example.com",
            "http://localhost:*",
            "*://example.com:443",
            "https://*",
            "http://[::1]:8080/",
            "HTTPS://API.Example.COM",
        ]
    )

    assert policy.rules[0] == OutboundRule("https", "api.example.com", None, False, "https://api.example.com")
    assert policy.rules[1].host == ipaddress.ip_address("127.0.0.1")
    assert policy.rules[2].host == "*.example.com"
    assert policy.rules[3].any_port is True
    assert policy.rules[4].scheme == "*"
    assert policy.rules[4].port == 443
    assert policy.rules[5].host == "*"
    assert policy.rules[6].host == ipaddress.ip_address("::1")
    assert policy.rules[7].host == "api.example.com"
