"""Fixtures of the interop tests with the real socket.io-client: the node process, the transports.

The server is ``build_test_server()`` (tests/engine/app.py) behind the ``engine_server`` fixture (one
per test module), plus one handler of these tests' own (``size``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from apoio_node import NodeClients, garantir_node_modules

from atendimento.engine import Socket

from ..conftest import RunningServer
from .apoio import TRANSPORTS


@pytest.fixture(scope="session")
def node_modules() -> None:
    garantir_node_modules()


@pytest.fixture
async def node(node_modules: None, engine_server: RunningServer) -> AsyncIterator[NodeClients]:
    clients = NodeClients(engine_server.url)
    await clients.start()
    yield clients
    await clients.close()


@pytest.fixture(scope="module", autouse=True)
def size_handler(engine_server: RunningServer) -> None:
    """One more handler on the module's server: ``size(i, data)`` emits ``size(i, len(data))`` back."""

    def register() -> None:
        main = engine_server.app.server.of("/")

        @main.on("size")
        def size(socket: Socket, i: int, data: str | bytes) -> None:
            socket.emit("size", i, len(data))

    engine_server.call(register)


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    yield dict(TRANSPORTS[request.param])
