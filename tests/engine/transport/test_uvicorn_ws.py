"""uvicorn internals that ``engine/transport/uvicorn_ws.py`` subclasses and replaces.

``EngineWebSocketProtocol`` extends uvicorn's private ``WebSocketsSansIOProtocol``: it swaps the
receive queue and the writable flag for smaller objects, replaces ``conn`` and reads ``scope``,
``request``, ``response`` and ``handshake_complete``. None of that is uvicorn's public API, so
pyproject.toml pins uvicorn below its next minor, and this test fails, naming what moved, when an
upgrade changes any of it (the end-to-end behaviour is in tests/engine/test_fastpath.py).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from importlib.metadata import version

import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from atendimento.engine.transport.uvicorn_ws import EngineWebSocketProtocol, _Flag, _ReceiveQueue

# What the subclass was written against; pyproject.toml allows this minor only.
MINOR_ESCRITO_CONTRA = (0, 54)


def _fonte() -> str:
    return inspect.getsource(WebSocketsSansIOProtocol)


def test_uvicorn_is_the_minor_the_subclass_was_written_against() -> None:
    minor = tuple(int(parte) for parte in version("uvicorn").split(".")[:2])
    assert minor == MINOR_ESCRITO_CONTRA, (
        f"uvicorn {uvicorn.__version__}: engine/transport/uvicorn_ws.py subclasses its internals; "
        "re-read WebSocketsSansIOProtocol, then move MINOR_ESCRITO_CONTRA and the pin in pyproject.toml"
    )


def test_the_constructor_takes_what_the_subclass_passes() -> None:
    parametros = list(inspect.signature(WebSocketsSansIOProtocol.__init__).parameters)
    assert parametros == ["self", "config", "server_state", "app_state", "_loop"]


def test_the_replaced_queue_and_flag_offer_every_method_uvicorn_calls() -> None:
    fonte = _fonte()
    da_fila = set(re.findall(r"self\.queue\.(\w+)", fonte))
    da_bandeira = set(re.findall(r"self\.writable\.(\w+)", fonte))
    assert da_fila, "uvicorn no longer uses self.queue: re-read the subclass"
    assert da_bandeira, "uvicorn no longer uses self.writable: re-read the subclass"
    assert {m for m in da_fila if not hasattr(_ReceiveQueue, m)} == set()
    assert {m for m in da_bandeira if not hasattr(_Flag, m)} == set()


def test_the_attributes_and_hooks_the_subclass_uses_are_there() -> None:
    fonte = _fonte()
    for atributo in ("self.conn", "self.scope", "self.request", "self.response", "self.handshake_complete"):
        assert atributo in fonte, f"uvicorn's WebSocketsSansIOProtocol no longer has {atributo}"
    for metodo in ("handle_connect", "send"):
        assert metodo in vars(WebSocketsSansIOProtocol), f"uvicorn no longer defines {metodo}"
    assert "ws_per_message_deflate" in fonte and "ws_max_size" in vars(Config(app=None))


async def test_an_instance_gets_the_smaller_queue_and_flag() -> None:
    config = Config(app=None, ws=EngineWebSocketProtocol)
    protocolo = EngineWebSocketProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    assert isinstance(protocolo.queue, _ReceiveQueue)
    assert isinstance(protocolo.writable, _Flag) and protocolo.writable.is_set()
    # permessage-deflate is never negotiated (the engine writes frames uncompressed).
    assert list(protocolo.conn.available_extensions or []) == []
