"""Reference only: the wire of /work/shared/bench/server.js on python-socketio 5.18 under uvicorn.

    PORT=3103 .venv/bin/python bench/python_socketio_server.py

Not the product and not the engine: it is there so the benchmarks can put a stock Python Socket.IO
server beside ours and the Node peer. Same contract as bench/fanout_server.py: namespace /atendimento,
JWT HS256 (secret ``bench-secret``) from ``auth.token`` or ``Authorization: Bearer``; sockets join
``user:{sub}``, ``empresa:{empresaId}`` and, for role atendente, ``empresa:{empresaId}:atendentes``;
``GET /bench/emit?q=<JSON {room, event, count, payload}>`` emits ``count`` events to ``room``, each
payload plus ``{seq, t}`` (t: wall clock in ms at emit time).

uvicorn runs as for our engine (uvloop, httptools, no permessage-deflate, the engine's heartbeat
only), with uvicorn's default WebSocket implementation, since python-socketio speaks plain ASGI.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
import socketio
import uvicorn

SECRET = os.environ.get("JWT_SECRET", "bench-secret")
NAMESPACE = "/atendimento"
TICKETS = {f"t{i}": "e1" for i in range(1000)}

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")


@sio.on("connect", namespace=NAMESPACE)
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not token and header.startswith("Bearer "):
        token = header[7:]
    try:
        user = jwt.decode(token or "", SECRET, algorithms=["HS256"])  # short bench secret: a warning
    except jwt.PyJWTError as exc:
        raise socketio.exceptions.ConnectionRefusedError("Unauthorized") from exc
    await sio.save_session(sid, {"user": user}, namespace=NAMESPACE)
    await sio.enter_room(sid, f"user:{user['sub']}", namespace=NAMESPACE)
    await sio.enter_room(sid, f"empresa:{user['empresaId']}", namespace=NAMESPACE)
    if user.get("role") == "atendente":
        await sio.enter_room(sid, f"empresa:{user['empresaId']}:atendentes", namespace=NAMESPACE)


@sio.on("ticket:entrar", namespace=NAMESPACE)
async def entrar(sid: str, data: Any = None) -> dict[str, Any]:
    user = (await sio.get_session(sid, namespace=NAMESPACE))["user"]
    ticket = data.get("ticketId") if isinstance(data, dict) else None
    if ticket is not None and TICKETS.get(ticket) == user["empresaId"]:
        await sio.enter_room(sid, f"ticket:{ticket}", namespace=NAMESPACE)
        return {"success": True, "ticketId": ticket}
    return {"success": False, "error": "Ticket não encontrado"}


@sio.on("ticket:sair", namespace=NAMESPACE)
async def sair(sid: str, data: Any = None) -> None:
    if isinstance(data, dict):
        await sio.leave_room(sid, f"ticket:{data.get('ticketId')}", namespace=NAMESPACE)


async def bench_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or scope["path"] != "/bench/emit":
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        return
    spec = json.loads(parse_qs(scope["query_string"].decode())["q"][0])
    room, event, payload = spec["room"], spec["event"], spec["payload"]
    for i in range(spec["count"]):
        await sio.emit(event, {**payload, "seq": i, "t": time.time() * 1000}, to=room, namespace=NAMESPACE)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


app = socketio.ASGIApp(sio, other_asgi_app=bench_app)

if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "3103")),
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
