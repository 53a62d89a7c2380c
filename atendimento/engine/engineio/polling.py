"""HTTP long-polling: GET waits for output, POST delivers packets.

A session has at most one GET and one POST in flight; a second one is a protocol violation that
closes the session (the first GET then answers the close packet, the second gets HTTP 400). A GET that
the client abandons closes the session too, since its output would be lost.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from atendimento.engine.engineio import http
from atendimento.engine.engineio.protocol import packets as eio
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.session import NOOP, POLLING, EngineSession, refuse_packet
from atendimento.engine.engineio.types import Receive, Send

if TYPE_CHECKING:
    from atendimento.engine.engineio.server import EngineIOServer


async def handle_get(
    engine: EngineIOServer,
    session: EngineSession,
    receive: Receive,
    send: Send,
    cors: list[tuple[bytes, bytes]],
) -> None:
    if session.get_waiter is not None:
        engine.refused("closing %s: overlapping GET requests", session.sid)
        session.close(Reason.TRANSPORT_ERROR)
        await http.respond_error(send, http.BAD_REQUEST, cors)
        return
    if session.state.get_ends_with_noop():
        # The client is moving to WebSocket: end this poll so it can pause polling.
        await http.respond(send, 200, NOOP.poll, cors)
        return
    if not session.out and not session.closed:
        waiter: asyncio.Future[None] = engine.loop.create_future()
        session.get_waiter = waiter
        gone = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait((waiter, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            session.get_waiter = None
            if not gone.done():
                gone.cancel()
        if not waiter.done():
            if session.transport == POLLING:
                engine.refused("closing %s: poll request abandoned by the client", session.sid)
                session.close(Reason.TRANSPORT_ERROR)
            return
        if session.state.released_get_ends_with_noop(bool(session.out)):
            # Upgraded (or upgrading) while this GET waited: its output now goes to the WebSocket.
            await http.respond(send, 200, NOOP.poll, cors)
            return
    await http.respond(send, 200, session.take_poll_body(), cors)


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def handle_post(
    engine: EngineIOServer,
    session: EngineSession,
    receive: Receive,
    send: Send,
    cors: list[tuple[bytes, bytes]],
) -> None:
    if session.post_active:
        engine.refused("closing %s: overlapping POST requests", session.sid)
        session.close(Reason.TRANSPORT_ERROR)
        await http.respond_error(send, http.BAD_REQUEST, cors)
        return
    session.post_active = True
    try:
        try:
            async with asyncio.timeout(engine.config.body_timeout_ms / 1000):
                body = await _read_body(receive, engine.config.max_payload_bytes)
        except TimeoutError:
            engine.refused("closing %s: POST body not received in time", session.sid)
            session.close(Reason.TRANSPORT_ERROR)
            await http.respond_error(send, http.BAD_REQUEST, [*cors, (b"connection", b"close")], 408)
            return
        if body is None:
            engine.refused("closing %s: POST body larger than maxPayload", session.sid)
            session.close(Reason.TRANSPORT_ERROR)
            await http.respond_error(send, http.BAD_REQUEST, cors)
            return
        try:
            for packet in eio.decode_payload(body, engine.config.max_polling_packets):
                if not session.accepting:
                    break
                session.receive(packet)
        except Exception as exc:  # whatever a packet makes fail is that client's problem alone
            refuse_packet(engine, session, exc)
            await http.respond_error(send, http.BAD_REQUEST, cors)
            return
    finally:
        session.post_active = False
    await http.respond(send, 200, b"ok", cors)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` once it grows past ``limit`` (we stop reading there)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
