"""The workers' listening socket is labelled TCP, so asyncio turns Nagle off on every connection."""

from __future__ import annotations

import asyncio
import socket

from gateway.confinement.serving import tcp_listener


async def nodelay_of_a_connection(listener: socket.socket) -> int:
    """TCP_NODELAY as asyncio left it on the server side of one accepted connection."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        value = await asyncio.wait_for(accepted, 10)
        writer.close()
        return value


def unlabelled_listener() -> socket.socket:
    """What uvicorn's ``Config.bind_socket`` makes: ``socket.socket(family=AF_INET)``, protocol 0."""
    listener = socket.socket(family=socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    return listener


def test_an_unlabelled_listener_leaves_nagle_on_under_asyncio() -> None:  # the control: why tcp_listener exists
    assert asyncio.run(nodelay_of_a_connection(unlabelled_listener())) == 0


def test_tcp_listener_makes_asyncio_turn_nagle_off() -> None:
    listener = tcp_listener(unlabelled_listener())

    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(nodelay_of_a_connection(listener)) != 0


def test_a_unix_socket_is_left_as_it_is() -> None:
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        assert tcp_listener(unix) is unix
    finally:
        unix.close()
