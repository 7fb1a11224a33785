"""Test hosts for the egress tests, run inside a network namespace the test made.

    python world_server.py --tcp 10.200.1.2:8080 --tcp 169.254.169.254:80 --udp 10.200.1.53:53

Each TCP address answers any HTTP request with ``200 hello from ADDR:PORT``;
each UDP address echoes a datagram back (a stand-in for a DNS resolver).
Plain socketserver on purpose: ``http.server`` does a reverse-DNS lookup per
request that stalls ~5 s in a namespace without a resolver. Prints ``ready``
once every socket listens, and runs until killed.
"""

from __future__ import annotations

import argparse
import socketserver
import sys
import threading


class Hello(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.connection.settimeout(5)
        while self.rfile.readline().strip():  # request line and headers
            pass
        host, port = self.server.server_address[:2]
        body = f"hello from {host}:{port}".encode()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(data, self.client_address)


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp", action="append", default=[])
    parser.add_argument("--udp", action="append", default=[])
    args = parser.parse_args()
    servers: list[socketserver.BaseServer] = [TCPServer(split(a), Hello) for a in args.tcp]
    servers += [socketserver.ThreadingUDPServer(split(a), Echo) for a in args.udp]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
