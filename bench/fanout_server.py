"""Fan-out benchmark server: the wire of /work/shared/bench/server.js on our engine.

    bash /work/shared/bench/compare-fanout.sh '.venv/bin/python bench/fanout_server.py' 1000 100

Namespace /atendimento, JWT HS256 (secret 'bench-secret') from ``auth.token`` or ``Authorization:
Bearer``; sockets join ``user:{sub}``, ``empresa:{empresaId}`` and, for role atendente,
``empresa:{empresaId}:atendentes``. ``GET /bench/emit?q=<JSON {room, event, count, payload}>`` emits
``count`` events to ``room``, each payload plus ``{seq, t}`` (t: wall clock in ms at emit time).
Listens on 127.0.0.1:$PORT. ``BENCH_RECOVERY=1`` turns connection state recovery on (the product's
defaults: every broadcast gets an offset and is kept for the window); bench/compare-fanout-recovery.sh
runs it beside Node's server.js with ``connectionStateRecovery`` on. Throwaway: not part of the product.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
import uvicorn

from atendimento.engine import ConnectionRefused, Server, Socket
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol
from atendimento.engine.socketio.recovery import RecoveryConfig

SECRET = os.environ.get("JWT_SECRET", "bench-secret")
TICKETS = {f"t{i}": "e1" for i in range(1000)}

RECOVERY = RecoveryConfig() if os.environ.get("BENCH_RECOVERY") == "1" else None
server = Server(path="/socket.io/", cors_origins=["*"], recovery=RECOVERY)
nsp = server.of("/atendimento")


@nsp.on_connect
def connect(socket: Socket, auth: dict[str, Any]) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    header = socket.handshake.headers.get("authorization", "")
    if not token and header.startswith("Bearer "):
        token = header[7:]
    try:
        user = jwt.decode(
            token or "", SECRET, algorithms=["HS256"]
        )  # the bench secret is short: expect a warning
    except jwt.PyJWTError as exc:
        raise ConnectionRefused("Unauthorized") from exc
    socket.data["user"] = user
    socket.join(f"user:{user['sub']}")
    socket.join(f"empresa:{user['empresaId']}")
    if user.get("role") == "atendente":
        socket.join(f"empresa:{user['empresaId']}:atendentes")


@nsp.on("ticket:entrar")
def entrar(socket: Socket, data: Any = None) -> dict[str, Any]:
    user = socket.data["user"]
    ticket = data.get("ticketId") if isinstance(data, dict) else None
    if ticket is not None and TICKETS.get(ticket) == user["empresaId"]:
        socket.join(f"ticket:{ticket}")
        return {"success": True, "ticketId": ticket}
    return {"success": False, "error": "Ticket não encontrado"}


@nsp.on("ticket:sair")
def sair(socket: Socket, data: Any = None) -> None:
    if isinstance(data, dict):
        socket.leave(f"ticket:{data.get('ticketId')}")


async def bench_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or scope["path"] != "/bench/emit":
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        return
    query = parse_qs(scope["query_string"].decode())
    spec = json.loads(query["q"][0])
    target = nsp.to(spec["room"])
    event, payload = spec["event"], spec["payload"]
    for i in range(spec["count"]):
        target.emit(event, {**payload, "seq": i, "t": time.time() * 1000})
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


if __name__ == "__main__":
    uvicorn.run(
        server.asgi(bench_app),
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "3101")),
        ws=EngineWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
