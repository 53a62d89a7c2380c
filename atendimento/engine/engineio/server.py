"""The Engine.IO server as an ASGI application: handshake, routing of polling and WebSocket requests.

``EngineIOServer`` knows nothing of Socket.IO: it hands each session's messages to an ``EngineHandler``
(the Socket.IO layer, or the echo handler of the conformance server) and offers it ``session.push``
/ ``session.send`` / ``session.close``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

from atendimento.engine.engineio import http
from atendimento.engine.engineio.addresses import AddressCounter, address_key
from atendimento.engine.engineio.admission import Admission
from atendimento.engine.engineio.config import EngineConfig
from atendimento.engine.engineio.cors import Cors
from atendimento.engine.engineio.flusher import Flusher
from atendimento.engine.engineio.link import WsLink
from atendimento.engine.engineio.polling import handle_get, handle_post
from atendimento.engine.engineio.protocol.outgoing import Outgoing
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.protocol.session import Timing
from atendimento.engine.engineio.refusals import RefusalLog
from atendimento.engine.engineio.session import POLLING, WEBSOCKET, EngineSession
from atendimento.engine.engineio.sweeper import Sweeper
from atendimento.engine.engineio.types import Receive, Scope, Send
from atendimento.engine.engineio.websocket import handle_websocket

log = logging.getLogger("atendimento.engine")


class EngineHandler(Protocol):
    """What the layer above implements. ``on_message`` may raise ``ProtocolError`` to close the session."""

    def on_open(self, session: EngineSession) -> None: ...

    def on_message(self, session: EngineSession, data: str | bytes) -> None: ...

    def on_close(self, session: EngineSession, reason: Reason) -> None: ...


def new_sid(prefix: str = "") -> str:
    """20 URL-safe characters (120 random bits), the shape of the reference server's ids, after
    ``prefix`` (which names the process that owns the session when several serve one port)."""
    return prefix + secrets.token_urlsafe(15)


# Given a polling request for a sid this server does not hold, answer it (True) or not (False).
# Several processes on one port (``serve --workers``) set one that passes the request to the
# process whose prefix the sid carries; the engine itself knows nothing of processes.
ForeignSession = Callable[[str, Scope, Receive, Send], Awaitable[bool]]


class EngineIOServer:
    def __init__(
        self,
        handler: EngineHandler,
        config: EngineConfig,
        *,
        cors: Cors | None = None,
        sid_prefix: str = "",
        foreign: ForeignSession | None = None,
    ) -> None:
        self.handler = handler
        self.config = config
        self.cors = cors if cors is not None else Cors(config.cors_origins)
        self.sessions: dict[str, EngineSession] = {}
        self.ping_interval = config.ping_interval_ms / 1000
        self.ping_timeout = config.ping_timeout_ms / 1000
        self.output_limit = config.output_limit
        self.timing = Timing(self.ping_interval, self.ping_timeout, config.upgrade_timeout_ms / 1000)
        self.per_address = AddressCounter(config.max_sessions_per_address)
        # The drain flag and the handshake budget: a refused handshake is a 503 (admission.py).
        self.admission = Admission(config.handshakes_per_second)
        # Every line a client's misbehaviour causes goes through this, so no client can fill a disk.
        self.refused = RefusalLog(log, config.refusal_log_lines, config.refusal_log_interval_s)
        # Bound to the running loop on first use (the server object may be built before the loop).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: Flusher | None = None
        period = min(self.ping_interval, self.ping_timeout) / 8
        self.sweeper = Sweeper(self, max(0.02, min(1.0, period)))
        self.sid_prefix = sid_prefix
        self.foreign = foreign

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    @property
    def flusher(self) -> Flusher:
        if self._flusher is None:
            self._flusher = Flusher(self.loop)
        return self._flusher

    def _rebind(self) -> None:
        # Sessions of the old loop are dead with it: forget them (their transports are gone too) but
        # let the layer above clean up its sockets and rooms.
        dead = list(self.sessions.values())
        self.sessions.clear()
        self.per_address.clear()
        self.sweeper.forget()
        self._loop = None
        self._flusher = None
        for session in dead:
            session.abandon()
            self.notify_closed(session, Reason.SERVER_SHUTTING_DOWN)

    def notify_closed(self, session: EngineSession, reason: Reason) -> None:
        """Tell the layer above a session is gone; its failure is logged, never raised into the transport."""
        try:
            self.handler.on_close(session, reason)
        except Exception:
            log.exception("engine close handler failed for %s", session.sid)

    # ---------------------------------------------------------------------------------------- sessions

    def _handshake(self, session: EngineSession, upgrades: list[str]) -> Outgoing:
        data = {
            "sid": session.sid,
            "upgrades": upgrades,
            "pingInterval": self.config.ping_interval_ms,
            "pingTimeout": self.config.ping_timeout_ms,
            "maxPayload": self.config.max_payload_bytes,
        }
        return Outgoing(("0" + json.dumps(data, separators=(",", ":")),))

    def admits(self, scope: Scope) -> bool:
        """Whether a new session from this client address stays within the per-address cap."""
        key = address_key(scope)
        if not self.per_address.full(key):
            return True
        self.refused("refusing a new session from %s: %d sessions open", key, self.per_address.count(key))
        return False

    def unavailable(self) -> str | None:
        """None when a new session may open now; else the 503's message (draining, over budget)."""
        refusal = self.admission.refusal()
        if refusal is None:
            return None
        self.refused("refusing a new session: %s", refusal[1])
        return refusal[1]

    def open_session(self, scope: Scope, link: WsLink | None = None) -> EngineSession:
        """Create a session; with ``link`` it is a WebSocket session and the open packet is queued on it."""
        sid = new_sid(self.sid_prefix)
        session = EngineSession(self, sid, scope, WEBSOCKET if link is not None else POLLING)
        self.sessions[sid] = session
        self.per_address.add(address_key(scope))
        self.sweeper.ensure_running()
        if link is not None:
            session.attach(link)
            session.push(self._handshake(session, []))
        self.handler.on_open(session)
        return session

    def discard(self, session: EngineSession) -> None:
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
            self.per_address.remove(address_key(session.scope))

    def close_all(self, reason: Reason = Reason.SERVER_SHUTTING_DOWN) -> None:
        for session in list(self.sessions.values()):
            session.close(reason)

    # -------------------------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._loop is not None and not self._loop.is_running():
            self._rebind()  # the loop we were bound to ended (tests, restarts): start afresh on this one
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await handle_websocket(self, scope, receive, send, http.query(scope))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await http.respond(send, 204, b"", self.cors.preflight(scope))
            return
        cors = self.cors.headers(scope)
        params = http.query(scope)
        if params.get("EIO") != "4":
            await http.respond_error(send, http.UNSUPPORTED_PROTOCOL_VERSION, cors)
            return
        transport = params.get("transport")
        if transport != "polling":
            # "websocket" over plain HTTP is a failed upgrade; anything else is unknown.
            error = http.BAD_REQUEST if transport == "websocket" else http.TRANSPORT_UNKNOWN
            await http.respond_error(send, error, cors)
            return
        sid = params.get("sid")
        if sid is None:
            if method != "GET":
                await http.respond_error(send, http.BAD_HANDSHAKE_METHOD, cors)
                return
            if not self.admits(scope):
                await http.respond_error(send, http.FORBIDDEN, cors)
                return
            busy = self.unavailable()
            if busy is not None:
                await http.respond_unavailable(send, busy, cors)
                return
            session = self.open_session(scope)
            upgrades = ["websocket"] if self.config.allow_upgrades else []
            await http.respond(send, 200, self._handshake(session, upgrades).poll, cors)
            return
        session_or_none = self.sessions.get(sid)
        if session_or_none is None:
            if self.foreign is not None and await self.foreign(sid, scope, receive, send):
                return
            await http.respond_error(send, http.UNKNOWN_SID, cors)
            return
        session = session_or_none
        if not session.accepting:
            # Closed, lingering for its client: this GET collects what is left, then the close packet.
            if method == "GET":
                await http.respond(send, 200, session.take_poll_body(), cors)
            else:
                await http.respond_error(send, http.UNKNOWN_SID, cors)
            return
        if session.heartbeat_expired(self.loop.time()):
            # The sweep may not have run yet: enforce the deadline the moment the client shows up.
            session.close(Reason.PING_TIMEOUT)
            await http.respond_error(send, http.UNKNOWN_SID, cors)
            return
        if session.transport != POLLING:
            await http.respond_error(send, http.BAD_REQUEST, cors)
            return
        if method == "GET":
            await handle_get(self, session, receive, send, cors)
        elif method == "POST":
            await handle_post(self, session, receive, send, cors)
        else:
            await http.respond_error(send, http.BAD_REQUEST, cors)
