"""Test helpers for host_api: a fake DNS table and real loopback HTTP(S) servers.

Network rule: tests only ever talk to 127.0.0.1 and ::1. Anything else is
decided by ``egress.decide`` with a fake resolver, never connected to.
"""

from __future__ import annotations

import datetime
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest


class FakeDNS:
    """A resolver backed by a dict (test input, not a mock): records every lookup."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


@dataclass
class Recorded:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    client_address: str

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return values[0] if values else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def log_message(self, format: str, *args: object) -> None:  # quiet, and no reverse DNS
        pass

    def send(self, status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        headers = [(name.lower(), value) for name, value in self.headers.items()]
        self.server.record(Recorded(self.command, self.path, headers, body, self.client_address[0]))
        route = self.server.routes.get(path)
        if route is None:
            self.send(404, b"not found")
        else:
            route(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _dispatch


Route = Callable[[Handler], None]


class LoopbackServer(socketserver.ThreadingTCPServer):
    """A threading HTTP server on loopback that counts connections and records requests."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, Route], host: str, tls: ssl.SSLContext | None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.routes = routes
        self.tls = tls
        self.connections = 0
        self.requests: list[Recorded] = []
        self.release = threading.Event()  # slow handlers wait on this; set at teardown
        self._lock = threading.Lock()
        super().__init__((host, 0), Handler)
        self.host = host
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def origin(self, scheme: str = "http") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin() + path

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        with self._lock:
            self.connections += 1
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client hung up early: expected when a fetch stops reading
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    """serve(routes, host="127.0.0.1", tls=None) starts a server, stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(routes: dict[str, Route], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> LoopbackServer:
        server = LoopbackServer(routes, host, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@dataclass
class Certificate:
    cert_path: Path
    key_path: Path
    sni_seen: list[str | None] = field(default_factory=list)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        context.sni_callback = lambda ssl_object, name, ctx: self.sni_seen.append(name)  # type: ignore[misc]
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_path))


@pytest.fixture
def make_certificate(tmp_path: Path) -> Callable[[str], Certificate]:
    """A self-signed certificate for one DNS name (it is its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def make(dns_name: str) -> Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .sign(key, hashes.SHA256())
        )
        cert_path = tmp_path / f"{dns_name}.pem"
        key_path = tmp_path / f"{dns_name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return Certificate(cert_path, key_path)

    return make


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


__all__ = ["FakeDNS", "Handler", "LoopbackServer", "Recorded", "ipv6_loopback_available"]
