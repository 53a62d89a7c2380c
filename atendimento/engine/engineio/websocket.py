"""The WebSocket transport: a new session, or the upgrade of a long-polling one.

Receiving goes through ASGI (``receive()``), one message at a time, until the session is open; under
our uvicorn protocol class the receive side is then handed over (``_Reader``, called from the
protocol's ``data_received``) and this handler returns, so an idle connection keeps no task waiting.
Sending goes through ``WsLink`` (raw frames under our uvicorn protocol class, ``websocket.send``
elsewhere). The upgrade follows the
specification: the client sends ``2probe``, we answer ``3probe`` on the new socket and end the pending
GET with a noop, then the client's ``5`` moves the session, buffered output included, to WebSocket.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from atendimento.engine.engineio import http
from atendimento.engine.engineio.link import WsLink, hand_over, raw_transport
from atendimento.engine.engineio.protocol import packets as eio
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.protocol.session import UpgradeStep
from atendimento.engine.engineio.session import PROBE_PONG, EngineSession, refuse_packet
from atendimento.engine.engineio.types import Receive, Scope, Send

if TYPE_CHECKING:
    from atendimento.engine.engineio.server import EngineIOServer


async def handle_websocket(
    engine: EngineIOServer, scope: Scope, receive: Receive, send: Send, params: dict[str, str]
) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if (
        params.get("EIO") != "4"
        or params.get("transport") != "websocket"
        or not engine.cors.websocket_allowed(scope)
    ):
        await send({"type": "websocket.close", "code": 1008})
        return
    sid = params.get("sid")
    upgrading: EngineSession | None = None
    if sid is None and not engine.admits(scope):
        await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
        return
    busy = engine.unavailable() if sid is None else None
    if busy is not None:
        await _refuse_unavailable(scope, send, busy)
        return
    if sid is not None:
        upgrading = engine.sessions.get(sid)
        if upgrading is None or not engine.config.allow_upgrades:
            await send({"type": "websocket.close", "code": 1008})
            return
        if not upgrading.state.can_probe():
            # Already upgraded, or another WebSocket is probing: the reference accepts, then closes.
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1008})
            return
    await send({"type": "websocket.accept"})
    link = WsLink(send, raw_transport(scope))

    if upgrading is not None:
        upgrading.probe = link
        upgrading.state.probe_opened(engine.loop.time())
        session: EngineSession | None = await _upgrade(engine, upgrading, link, receive)
    else:
        session = engine.open_session(scope, link)
    handed_over = False
    try:
        if session is not None:
            take = hand_over(scope)
            if take is not None and link.raw is not None:
                # Our uvicorn protocol class calls the reader from now on: this task (and every
                # coroutine above it) ends instead of waiting in receive() for the connection's life.
                take(_Reader(engine, session, link))
                handed_over = True
                return
            await _receive_loop(engine, session, receive)
    finally:
        if not handed_over:
            if session is not None and not session.closed:
                session.close(Reason.TRANSPORT_CLOSE)
            link.close()
            await link.wait_closed()


async def _refuse_unavailable(scope: Scope, send: Send, message: str) -> None:
    """A 503 to the WebSocket handshake (the ASGI denial response; servers without it get a 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013})  # "try again later"; before accept: 403
        return
    body = http.unavailable_body(message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "websocket.http.response.start", "status": 503, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})


async def _receive_loop(engine: EngineIOServer, session: EngineSession, receive: Receive) -> None:
    max_payload = engine.config.max_payload_bytes
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            session.close(Reason.TRANSPORT_CLOSE)
            return
        if not session.accepting:
            return
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        if len(data) > max_payload:
            engine.refused("closing %s: message larger than maxPayload", session.sid)
            session.close(Reason.TRANSPORT_ERROR)
            return
        try:
            session.receive(eio.decode_frame(data))
        except Exception as exc:  # whatever a packet makes fail is that client's problem alone
            refuse_packet(engine, session, exc)
            return
        # An idle connection waits here for hours: it must not keep its last packet (the Socket.IO
        # CONNECT, token included, until the first ping) alive in this frame.
        del message, data


class _Reader:
    """``_receive_loop`` as a callback, for a connection handed over (``link.hand_over``)."""

    __slots__ = ("engine", "link", "session")

    def __init__(self, engine: EngineIOServer, session: EngineSession, link: WsLink) -> None:
        self.engine = engine
        self.session = session
        self.link = link

    def __call__(self, data: str | bytes | None) -> None:
        session = self.session
        if data is None or not session.accepting:
            self._end()
            return
        engine = self.engine
        if len(data) > engine.config.max_payload_bytes:
            engine.refused("closing %s: message larger than maxPayload", session.sid)
            session.close(Reason.TRANSPORT_ERROR)
            self._end()
            return
        try:
            session.receive(eio.decode_frame(data))
        except Exception as exc:  # whatever a packet makes fail is that client's problem alone
            refuse_packet(engine, session, exc)
            self._end()

    def _end(self) -> None:
        if not self.session.closed:
            self.session.close(Reason.TRANSPORT_CLOSE)
        self.link.close()


async def _upgrade(
    engine: EngineIOServer, session: EngineSession, link: WsLink, receive: Receive
) -> EngineSession | None:
    """Run the probe exchange; the session on success, ``None`` (link closed) otherwise."""
    try:
        while True:
            try:
                async with asyncio.timeout_at(session.state.upgrade_by):
                    message = await receive()
            except TimeoutError:
                engine.refused("upgrade of %s timed out", session.sid)
                break
            if message["type"] != "websocket.receive" or not session.accepting:
                break
            step = session.state.probe_packet(message.get("text"))
            if step is UpgradeStep.ANSWER_PROBE:
                link.write([PROBE_PONG])
                session.begin_upgrade()
            elif step is UpgradeStep.COMPLETE:
                session.complete_upgrade(link)
                return session
            else:
                engine.refused("upgrade of %s aborted: unexpected packet during probe", session.sid)
                break
    finally:
        if session.probe is link:  # still probing: not upgraded (complete_upgrade clears it)
            session.abort_upgrade()
    link.close()
    return None
