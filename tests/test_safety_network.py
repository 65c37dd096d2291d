"""The test suite cannot reach the network: a connection to any host but this machine fails
(pytest-socket, configured in conftest.py), so no test can pass by downloading something."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from pytest_socket import SocketConnectBlockedError

BLOCKED = "tried to use socket.socket.connect"  # pytest-socket's warning (an error in this suite)


def test_a_connection_to_another_host_fails() -> None:
    with pytest.raises(SocketConnectBlockedError), pytest.warns(UserWarning, match=BLOCKED):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed


def test_a_download_fails_before_any_packet_is_sent() -> None:
    with pytest.raises(SocketConnectBlockedError), pytest.warns(UserWarning, match=BLOCKED):
        urllib.request.urlopen("http://192.0.2.1/tiles/0/0/0.png", timeout=1)


def test_this_machine_stays_reachable() -> None:
    """Local sockets (Jupyter kernels, the browser driver) still work."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
