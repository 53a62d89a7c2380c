"""Serves, on 127.0.0.1:3000, what the official Engine.IO v4 / Socket.IO v5 test suites expect.

    python examples/conformance_server.py socketio   # docs/socket.io-protocol/v5-test-suite
    python examples/conformance_server.py engineio   # docs/engine.io-protocol/v4-test-suite

Both mirror the reference configuration written at the end of each specification: pingInterval 300,
pingTimeout 200, maxPayload 1e6, CORS "*" (and connectTimeout 1000 for Socket.IO); the Socket.IO
server echoes "message" as "message-back", acks "message-with-ack" with its arguments, and emits
"auth" with the handshake auth on "/" and "/custom". The Engine.IO server echoes every message.

Running the official suites (they live in the socket.io monorepo; never copy them into this repo)::

    git clone --depth 1 https://github.com/socketio/socket.io /tmp/socket.io   # or any checkout
    cd /tmp/socket.io/docs/socket.io-protocol/v5-test-suite && npm ci
    python examples/conformance_server.py socketio &   # from the repository root
    npx mocha test-suite.js                            # 32 passing

    cd /tmp/socket.io/docs/engine.io-protocol/v4-test-suite && npm ci
    python examples/conformance_server.py engineio &
    npx mocha test-suite.js                            # 25 passing
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from atendimento.engine import Server, Socket
from atendimento.engine.engineio import EngineConfig, EngineIOServer, EngineSession
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol

TIMING = {"ping_interval_ms": 300, "ping_timeout_ms": 200, "max_payload_bytes": 1_000_000}


def socketio_app() -> Any:
    server = Server(
        path="/socket.io/", cors_origins=["*"], connect_timeout_ms=1000, serve_main_namespace=True, **TIMING
    )
    main = server.of("/")

    @main.on_connect
    def connect(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("auth", auth)

    @main.on("message")
    def echo(socket: Socket, *args: Any) -> None:
        socket.emit("message-back", *args)

    @main.on("message-with-ack")
    def echo_ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @server.of("/custom").on_connect
    def connect_custom(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("auth", auth)

    return server.asgi()


class _Echo:
    def on_open(self, session: EngineSession) -> None:
        pass

    def on_message(self, session: EngineSession, data: str | bytes) -> None:
        session.send(data)

    def on_close(self, session: EngineSession, reason: str) -> None:
        pass


def engineio_app() -> Any:
    return EngineIOServer(_Echo(), EngineConfig(path="/engine.io/", cors_origins=("*",), **TIMING))


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "socketio"
    if kind not in ("socketio", "engineio"):
        raise SystemExit("usage: conformance_server.py socketio|engineio")
    app = socketio_app() if kind == "socketio" else engineio_app()
    uvicorn.run(app, host="127.0.0.1", port=3000, ws=EngineWebSocketProtocol, log_level="warning")


if __name__ == "__main__":
    main()
