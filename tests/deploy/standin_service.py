"""A stand-in for `wasmtask serve` while the real one does not exist: GET /healthz -> 200.

    python standin_service.py --host 0.0.0.0 --port 8080
"""

from __future__ import annotations

import argparse
import socketserver
import sys


class Health(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.connection.settimeout(5)
        request = self.rfile.readline().split()
        while self.rfile.readline().strip():
            pass
        ok = request[1:2] == [b"/healthz"]
        body = b'{"status":"ok"}' if ok else b'{"error":{"code":"not_found"}}'
        status = b"200 OK" if ok else b"404 Not Found"
        head = b"HTTP/1.0 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (status, len(body))
        self.wfile.write(head + body)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with Server((args.host, args.port), Health) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
