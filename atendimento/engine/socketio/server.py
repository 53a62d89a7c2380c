"""The Socket.IO v5 server the gateway builds on: namespaces, sockets, rooms, emit, acks.

Why hand-written rather than python-socketio: that library spends ~120 µs of CPU per delivered event
in a room broadcast (an ``asyncio`` task and a per-recipient encode/send through ASGI), an order of
magnitude above Node's socket.io. Here a broadcast encodes once, frames once, and appends the same
bytes to each recipient's buffer; one flush per loop turn writes each socket once (see adapter.py,
transport/session.py, transport/uvicorn_ws.py).

Typical use (see docs/architecture.md)::

    server = Server(path="/socket.io/", cors_origins=["http://localhost:5173"])
    ns = server.of("/atendimento")

    @ns.on_connect
    async def connect(socket, auth): ...

    app = server.asgi(other_app)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from atendimento.engine.engineio.config import EngineConfig
from atendimento.engine.engineio.cors import Cors
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.server import EngineIOServer, ForeignSession
from atendimento.engine.engineio.types import ASGIApp, Receive, Scope, Send
from atendimento.engine.socketio.adapter import Adapter, AdapterFactory
from atendimento.engine.socketio.client import Client
from atendimento.engine.socketio.inbox import REFUSAL_MEMORY_S, run_async, run_sync
from atendimento.engine.socketio.monitor import Monitor, Monitors
from atendimento.engine.socketio.namespace import Namespace
from atendimento.engine.socketio.recovery import MemoryRecoveryStore, RecoveryConfig, RecoveryStore

if TYPE_CHECKING:
    from atendimento.engine.engineio.session import EngineSession
    from atendimento.engine.socketio.namespace import _Handler
    from atendimento.engine.socketio.socket import Socket

log = logging.getLogger("atendimento.engine")


class _SocketIOHandler:
    """Engine.IO → Socket.IO glue: one ``Client`` per Engine.IO session."""

    __slots__ = ("server",)

    def __init__(self, server: Server) -> None:
        self.server = server

    def on_open(self, session: EngineSession) -> None:
        session.app = Client(self.server, session)  # which starts the connect timeout
        if self.server.monitors.all:
            self.server.monitors.connection_opened(session.transport)

    def on_message(self, session: EngineSession, data: str | bytes) -> None:
        session.app.receive(data)

    def on_close(self, session: EngineSession, reason: Reason) -> None:
        session.app.on_close(reason)
        if self.server.monitors.all:
            self.server.monitors.connection_closed(reason)


class Server:
    def __init__(
        self,
        path: str = "/socket.io/",
        cors_origins: Iterable[str] = (),
        cors: Cors | None = None,
        ping_interval_ms: int = 25_000,
        ping_timeout_ms: int = 20_000,
        max_payload_bytes: int = 1_000_000,
        max_buffered_bytes: int | None = None,
        connect_timeout_ms: int = 45_000,
        upgrade_timeout_ms: int = 10_000,
        adapter_factory: AdapterFactory = Adapter,
        max_pending_events: int = 16,
        max_refused_events: int = 64,
        serve_main_namespace: bool = False,
        max_polling_packets: int = 256,
        max_sessions_per_address: int | None = None,
        handshakes_per_second: float | None = None,
        refusal_log_lines: int = 20,
        refusal_log_interval_s: float = 10.0,
        body_timeout_ms: int = 10_000,
        recovery: RecoveryConfig | None = None,
        recovery_store: RecoveryStore | None = None,
        sid_prefix: str = "",
        foreign_session: ForeignSession | None = None,
    ) -> None:
        if max_pending_events < 1 or max_refused_events < 0:
            raise ValueError("max_pending_events must be >= 1 and max_refused_events >= 0")
        self.config = EngineConfig(
            path=path,
            cors_origins=tuple(cors_origins),
            ping_interval_ms=ping_interval_ms,
            ping_timeout_ms=ping_timeout_ms,
            max_payload_bytes=max_payload_bytes,
            max_buffered_bytes=max_buffered_bytes,
            upgrade_timeout_ms=upgrade_timeout_ms,
            max_polling_packets=max_polling_packets,
            max_sessions_per_address=max_sessions_per_address,
            handshakes_per_second=handshakes_per_second,
            refusal_log_lines=refusal_log_lines,
            refusal_log_interval_s=refusal_log_interval_s,
            body_timeout_ms=body_timeout_ms,
        )
        # ``cors``: a policy shared with another application (the REST API); else one of our own.
        self.engine = EngineIOServer(
            _SocketIOHandler(self), self.config, cors=cors, sid_prefix=sid_prefix, foreign=foreign_session
        )
        self.connect_timeout = connect_timeout_ms / 1000
        self.adapter_factory = adapter_factory
        # Per socket: events in flight or queued (inbox.py), and refusals before a disconnect.
        self.max_pending_events = max_pending_events
        self.max_refused_events = max_refused_events
        self.refusal_memory_s = REFUSAL_MEMORY_S
        # "/" exists (its adapter, its handlers) but refuses every CONNECT unless served: a product
        # whose clients all use their own namespace must not hand anonymous clients a connection.
        self.serve_main_namespace = serve_main_namespace
        # Connection state recovery (engine/socketio/recovery.py): off unless a config or a store is given.
        if recovery_store is None and recovery is not None:
            recovery_store = MemoryRecoveryStore(recovery)
        self.recovery: RecoveryStore | None = recovery_store
        self.namespaces: dict[str, Namespace] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.monitors = Monitors()  # observers (engine/socketio/monitor.py); empty unless someone adds one
        self.of("/")

    def of(self, name: str) -> Namespace:
        """The namespace ``name`` (created on first use). ``"/"`` always exists; clients may connect
        to it only with ``Server(serve_main_namespace=True)``."""
        if not name.startswith("/"):
            raise ValueError("namespace names start with '/'")
        nsp = self.namespaces.get(name)
        if nsp is None:
            nsp = self.namespaces[name] = Namespace(self, name, self.adapter_factory)
        return nsp

    def add_monitor(self, monitor: Monitor) -> None:
        """Tell ``monitor`` about connections, sockets, rooms and emits (see engine/socketio/monitor.py)."""
        self.monitors.add(monitor)

    def set_adapter_factory(self, factory: AdapterFactory) -> None:
        """Build every namespace's adapter with ``factory(namespace)``, the existing ones included.

        A namespace that already exists (``/`` always does) gets a new adapter that takes over its
        rooms. Meant for start-up, before any socket connects: the old adapter is simply dropped.
        """
        self.adapter_factory = factory
        for nsp in self.namespaces.values():
            old, new = nsp.adapter, factory(nsp)
            new.rooms, new.sids = old.rooms, old.sids
            new.restoring = old.restoring
            if old.log is not None:
                new.use_log(old.log)
            nsp.adapter = new

    # ------------------------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The engine alone as an ASGI app (every request is taken as addressed to ``path``)."""
        await self.engine(scope, receive, send)

    def asgi(self, other_app: ASGIApp | None = None) -> ASGIApp:
        """ASGI app: ``path`` to the engine; everything else (lifespan too) to ``other_app``."""
        engine = self.engine
        prefix = self.config.path.rstrip("/")
        with_slash = prefix + "/"

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            kind = scope["type"]
            if kind == "http" or kind == "websocket":
                path = scope["path"]
                if path == prefix or path.startswith(with_slash):
                    await engine(scope, receive, send)
                    return
                if other_app is not None:
                    await other_app(scope, receive, send)
                elif kind == "http":
                    await send({"type": "http.response.start", "status": 404, "headers": []})
                    await send({"type": "http.response.body", "body": b""})
                else:
                    await receive()
                    await send({"type": "websocket.close", "code": 1000})
            elif kind == "lifespan":
                await self._lifespan(other_app, scope, receive, send)
            elif other_app is not None:
                await other_app(scope, receive, send)

        return app

    async def _lifespan(self, other_app: ASGIApp | None, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_and_watch() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.shutdown()
            return message

        if other_app is not None:
            await other_app(scope, receive_and_watch, send)
            return
        while True:
            message = await receive_and_watch()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def drain(self, spread_s: float, linger_s: float) -> None:
        """Leave gracefully: refuse new sessions (503), close the open ones with a recoverable reason
        spread over ``spread_s``, then wait up to ``linger_s`` for their saved sessions to be taken
        (by a reconnect here or a hand-over to another instance). See drain.py."""
        from atendimento.engine.socketio.drain import drain

        await drain(self, spread_s, linger_s)

    @property
    def draining(self) -> bool:
        return self.engine.admission.draining

    def shutdown(self) -> None:
        """Close every connection ("server shutting down"); handlers see their disconnects."""
        self.engine.close_all(Reason.SERVER_SHUTTING_DOWN)

    # --------------------------------------------------------------------------- running handlers

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _call(self, handler: _Handler, what: str, ack_id: int | None, socket: Socket, *args: Any) -> None:
        """Run a handler outside the socket's event order (disconnect); failures are logged here."""
        if handler.is_async:
            self._spawn(run_async(handler, what, ack_id, socket, args))
        else:
            run_sync(handler, what, ack_id, socket, args)
