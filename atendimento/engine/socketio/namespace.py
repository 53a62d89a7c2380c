"""A Socket.IO namespace: its handlers, its connected sockets, and broadcast to them."""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from atendimento.engine.engineio.protocol.reasons import RECOVERABLE, Reason
from atendimento.engine.socketio.adapter import Adapter, AdapterFactory, EventPacket, Target
from atendimento.engine.socketio.broadcast import BroadcastOperator, room_set
from atendimento.engine.socketio.errors import ConnectionRefused
from atendimento.engine.socketio.recovery import Replay, SavedSession
from atendimento.engine.socketio.socket import Socket, check_event_name

if TYPE_CHECKING:
    from atendimento.engine.socketio.recovery import RecoveryStore
    from atendimento.engine.socketio.server import Server

log = logging.getLogger("atendimento.engine")

F = TypeVar("F", bound=Callable[..., Any])
RoomSpec = str | Iterable[str] | None


def _rooms(spec: RoomSpec) -> frozenset[str]:
    return frozenset() if spec is None else room_set(spec)


class _Handler:
    """A registered callable and whether calling it gives a coroutine (decided once, not per event)."""

    __slots__ = ("fn", "is_async")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004 - async callable objects
        )


class Namespace:
    def __init__(self, server: Server, name: str, adapter_factory: AdapterFactory = Adapter) -> None:
        self.server = server
        self.name = name
        self.sockets: dict[str, Socket] = {}
        self.adapter: Adapter = adapter_factory(self)
        if server.recovery is not None:
            self.adapter.use_log(server.recovery.log(name))
        self._handlers: dict[str, _Handler] = {}
        self._on_connect: _Handler | None = None
        self._on_disconnect: _Handler | None = None
        self._on_unknown: _Handler | None = None
        self._on_overflow: _Handler | None = None
        # Observers of the broadcasts this process delivers (its own and, in a cluster, the other
        # instances'), by event name: ``tap``.
        self.taps: dict[str, Callable[[EventPacket, Target], None]] = {}

    def __repr__(self) -> str:
        return f"<Namespace {self.name} ({len(self.sockets)} sockets)>"

    # ---------------------------------------------------------------------------------- registration

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register ``handler(socket, *args)`` for ``event``; usable as ``@ns.on("event")``.

        Its return value is the acknowledgement when the client asked for one (a tuple for several
        arguments, ``None`` for none).
        """
        check_event_name(event)

        def register(fn: F) -> F:
            self._handlers[event] = _Handler(fn)
            return fn

        return register(handler) if handler is not None else register

    def on_connect(self, handler: F) -> F:
        """``handler(socket, auth)``; raise ``ConnectionRefused`` to refuse. Usable as a decorator."""
        self._on_connect = _Handler(handler)
        return handler

    def on_disconnect(self, handler: F) -> F:
        """``handler(socket, reason)`` with Socket.IO's reason strings. Usable as a decorator."""
        self._on_disconnect = _Handler(handler)
        return handler

    def on_unknown_event(self, handler: F) -> F:
        """``handler(socket, event, *args)`` for events without a handler; its return value is the ack."""
        self._on_unknown = _Handler(handler)
        return handler

    def on_overflow(self, handler: F) -> F:
        """``handler(socket, event)`` for an event refused because the socket already has
        ``max_pending_events`` in flight or queued; its return value is the ack. Runs inline (sync only),
        so a refusal costs no task and no I/O."""
        wrapped = _Handler(handler)
        if wrapped.is_async:
            raise TypeError("the overflow handler must be synchronous")
        self._on_overflow = wrapped
        return handler

    # ------------------------------------------------------------------------------------- broadcast

    def emit(
        self,
        event: str,
        *args: Any,
        to: RoomSpec = None,
        exclude: RoomSpec = None,
        exclude_sids: RoomSpec = None,
    ) -> None:
        """Emit to every socket of the namespace, or of the rooms in ``to``; each socket gets it once."""
        check_event_name(event)
        self.adapter.broadcast(
            EventPacket(self.name, event, args), Target(_rooms(to), _rooms(exclude), _rooms(exclude_sids))
        )

    def tap(self, event: str, observer: Callable[[EventPacket, Target], None]) -> None:
        """Call ``observer(packet, target)`` for every broadcast of ``event`` this process delivers,
        whichever instance emitted it, before its delivery (synchronously: keep it cheap; its
        exceptions are logged, never raised into the broadcast). One observer per event."""
        self.taps[event] = observer

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        return BroadcastOperator(self, Target(_rooms(room)))

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        return BroadcastOperator(self, Target(exclude_rooms=_rooms(room)))

    def sockets_in(self, room: str) -> list[Socket]:
        """The sockets of this process in ``room`` (a cluster adapter does not make this cluster-wide)."""
        return [self.sockets[sid] for sid in self.adapter.members(room) if sid in self.sockets]

    def disconnect_room(self, room: str, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Disconnect every socket in ``room`` through the adapter: on every instance of a cluster."""
        self.adapter.disconnect_sockets(Target.room(room), reason)

    # ------------------------------------------------------------------------------------- lifecycle

    def _connect(self, socket: Socket) -> None:
        """Run the connect handler, then accept or refuse (the handler may be async).

        With recovery on, a ``CONNECT`` whose auth carries a ``pid`` first tries to restore that
        session (async: the store may be remote); the connect handler runs either way, on a socket
        that is then ``recovered`` (old id, rooms and data) or fresh.
        """
        store = self.server.recovery
        if store is not None:
            auth = socket.handshake.auth
            if "pid" in auth or "offset" in auth:
                # The handler never sees them: the pid is the session's secret.
                socket.handshake.auth = {k: v for k, v in auth.items() if k != "pid" and k != "offset"}
                if "pid" in auth:
                    task = self.server._spawn(self._restore(socket, store, auth["pid"], auth.get("offset")))
                    socket.client.connecting[self.name] = task
                    return
        self._run_connect(socket)

    def _run_connect(self, socket: Socket) -> None:
        handler = self._on_connect
        if handler is None:
            self._accept(socket)
            return
        if handler.is_async:
            task = self.server._spawn(self._connect_async(socket, handler))
            socket.client.connecting[self.name] = task
            return
        try:
            handler.fn(socket, socket.handshake.auth)
        except ConnectionRefused as refused:
            self._refuse(socket, refused)
        except Exception as exc:
            self._failed(socket, "connect", exc)
        else:
            self._accept(socket)

    async def _restore(self, socket: Socket, store: RecoveryStore, pid: object, offset: object) -> None:
        try:
            replay: Replay | None = await store.take(self.name, pid, offset)
        except Exception as exc:  # a store that fails is a session that can't be recovered
            log.warning("recovery: restoring a session on %s failed: %r", self.name, exc)
            replay = None
        client = socket.client
        client.connecting.pop(self.name, None)
        if replay is not None:
            sid = replay.session.sid
            if client.closed:
                store.save(replay.session)  # gone again before anything ran: the client still has it
                return
            if sid not in self.sockets and sid not in self.adapter.restoring:
                socket._restore(replay)
                self.adapter.restoring[sid] = socket
                for room in replay.session.rooms:
                    if room != sid:
                        self.adapter.add(sid, room)
        if client.closed:
            return
        self._run_connect(socket)

    async def _connect_async(self, socket: Socket, handler: _Handler) -> None:
        try:
            await handler.fn(socket, socket.handshake.auth)
        except ConnectionRefused as refused:
            self._refuse(socket, refused)
        except Exception as exc:
            self._failed(socket, "connect", exc)
        else:
            self._accept(socket)
        finally:
            socket.client.connecting.pop(self.name, None)

    def _accept(self, socket: Socket) -> None:
        client = socket.client
        if client.closed:
            # The connection went away while the connect handler ran. The socket is never
            # connected, but the handler did its work (joins, counts, timers): the disconnect
            # handler undoes it, as for any socket whose connect handler completed.
            self._save(socket, client.close_reason)  # a restore cut short: the client still has its pid
            self._release(socket)
            self._run_on_disconnect(socket, client.close_reason)
            return
        self.adapter.restoring.pop(socket.sid, None)
        self.sockets[socket.sid] = socket
        client.sockets[self.name] = socket
        log_ = self.adapter.log
        if log_ is not None and socket.pid is None:
            socket.pid = secrets.token_urlsafe(18)
            socket._start = log_.head  # every broadcast after this one reaches it
        client.send_connect(self.name, socket.sid, socket.pid)
        socket._accepted()
        if self.server.monitors.all:
            self.server.monitors.socket_connected(socket)

    def _refuse(self, socket: Socket, refused: ConnectionRefused) -> None:
        self._release(socket)
        socket.client.send_connect_error(self.name, refused.payload())

    def _failed(self, socket: Socket, what: str, exc: BaseException) -> None:
        log.error("%s handler of %s failed: %r", what, self.name, exc)
        log.debug("traceback", exc_info=exc)
        self._refuse(socket, ConnectionRefused("Internal server error"))

    def _release(self, socket: Socket) -> None:
        """Drop the socket's rooms (joined while connecting, or since) and close it."""
        if self.adapter.restoring.get(socket.sid) is socket:
            del self.adapter.restoring[socket.sid]
        self.adapter.remove_all(socket.sid)
        socket._closed()

    def _remove(self, socket: Socket, reason: Reason) -> None:
        """Forget a connected socket and run the disconnect handler (once)."""
        if self.sockets.pop(socket.sid, None) is None:
            return
        socket.client.forget(self.name, socket)
        self._save(socket, reason)
        monitors = self.server.monitors
        rooms = socket.rooms if monitors.all else frozenset()
        self._release(socket)
        if monitors.all:
            monitors.socket_disconnected(socket, reason, rooms)
        self._run_on_disconnect(socket, reason)

    def _save(self, socket: Socket, reason: Reason) -> None:
        """Keep the session of a socket whose client will reconnect by itself (recovery on)."""
        store = self.server.recovery
        if store is None or socket.pid is None or reason not in RECOVERABLE:
            return
        session = SavedSession(
            pid=socket.pid,
            sid=socket.sid,
            nsp=self.name,
            rooms=socket.rooms,
            data=socket.data,
            start=socket._start,
            needs_offset_from=socket._needs_offset_from,
            saved_at=store.clock(),
        )
        if socket._restored_at is not None:
            session.saved_at = socket._restored_at  # the window runs from the first disconnect
        try:
            store.save(session)
        except Exception as exc:
            log.warning("recovery: saving the session of %s failed: %r", socket.sid, exc)

    def _run_on_disconnect(self, socket: Socket, reason: Reason) -> None:
        handler = self._on_disconnect
        if handler is not None:
            self.server._call(handler, "disconnect", None, socket, reason)

    # ---------------------------------------------------------------------------------------- events

    def _dispatch(self, socket: Socket, data: list[Any], ack_id: int | None) -> None:
        event = data[0]
        handler = self._handlers.get(event)
        if handler is not None:
            socket._inbox.submit(handler, event, ack_id, tuple(data[1:]))
        elif self._on_unknown is not None:
            socket._inbox.submit(self._on_unknown, event, ack_id, tuple(data))
        else:
            log.debug("no handler for event %r on %s", event, self.name)
