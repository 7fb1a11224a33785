"""Outbound probes, run from inside the namespace under test.

    python probe.py [--uid 65534] tcp:10.200.1.2:8080 udp:10.200.1.53:53 connect:10.0.0.5:6379 ...

Tries every target at once (threads) and prints one JSON object mapping each
target to ``"ok"``, ``"timeout"``, ``"refused"`` or another error name. A TCP
probe is an HTTP GET that must come back with 200; a UDP probe must get its
datagram echoed; a connect probe only opens a TCP connection (any server).
``--uid`` drops to that user first (for the per-user scope).
"""

from __future__ import annotations

import argparse
import encodings.idna  # noqa: F401  (imported lazily by getaddrinfo; may be unreadable after --uid)
import json
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def probe(target: str, timeout: float) -> str:
    kind, _, address = target.partition(":")
    host, _, port = address.rpartition(":")
    try:
        if kind == "connect":
            with socket.create_connection((host, int(port)), timeout=timeout):
                return "ok"
        if kind == "tcp":
            with socket.create_connection((host, int(port)), timeout=timeout) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: probe\r\n\r\n")
                reply = sock.recv(4096)
            return "ok" if reply.split(b"\r\n", 1)[0].split()[1:2] == [b"200"] else f"bad reply {reply[:40]!r}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(b"probe", (host, int(port)))
            return "ok" if sock.recvfrom(512)[0] == b"probe" else "bad reply"
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return type(exc).__name__ + (f" {exc.strerror}" if exc.strerror else "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uid", type=int)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()
    if args.uid is not None:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    with ThreadPoolExecutor(len(args.targets)) as pool:
        results = dict(zip(args.targets, pool.map(lambda t: probe(t, args.timeout), args.targets), strict=True))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
