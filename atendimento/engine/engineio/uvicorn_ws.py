"""A WebSocket protocol class for uvicorn, built on public APIs only, that lets the engine write
pre-built frames straight to the socket.

Pass it to uvicorn as ``ws=EngineWebSocketProtocol`` (``uvicorn.Config(app, ws=...)``: the public
setting that takes a protocol class). It is our own ``asyncio.Protocol``, composed with websockets'
sans-I/O ``ServerProtocol`` (the handshake, frame parsing, close codes, ping answers), as uvicorn's
own ``websockets-sansio`` implementation is; it imports nothing of uvicorn. What it relies on from
uvicorn is what uvicorn hands every ``ws=`` class: the keyword arguments ``config`` (read:
``loaded``/``load()``, ``loaded_app``, ``root_path``, ``ws_max_size``), ``server_state``
(``connections``, the set whose members' ``shutdown()`` it calls on exit; ``tasks``;
``default_headers``) and ``app_state``, then ``connection_made`` and the handshake bytes through
``data_received``.

ASGI stays as it is for the handshake (accept, or close before accept: 403), the receive side
until the engine takes it over (``websocket.receive`` messages, one at a time, reading paused while one
waits) and ``websocket.send``/``websocket.close``. The one addition is a scope extension,
``scope["extensions"]["atendimento.raw_transport"] = {"transport": <asyncio transport>, "hand_over":
<callable>}``, through which the engine writes whole server frames (unmasked, FIN, text/binary) once
the connection is accepted, and hands over its receive side (``_hand_over``: messages by callback, the
ASGI application returns without closing the socket). Writing raw frames skips, per message, an ASGI
``send`` coroutine, a dict and the websockets library's framing: a broadcast frames its packet once
and each recipient gets one ``transport.write`` per loop turn with all its frames joined.

Idle connections are most of a realtime server's memory, so per connection this keeps little:
``__slots__``, no permessage-deflate (frames are written as built, uncompressed, and no zlib
contexts are kept), a single-consumer receive queue and a "writable" flag smaller than
``asyncio.Queue`` and ``asyncio.Event`` (those allocate four ``deque`` blocks, ~3 KB), and neither
the handshake request nor its response once they have served (the scope keeps the headers). No
WebSocket-level keepalive: the engine's Engine.IO heartbeat is the one that counts (``serve`` sets
``ws_ping_interval=None``; any other value is ignored here).
"""

from __future__ import annotations

import asyncio
import http
import logging
from typing import Any
from urllib.parse import unquote

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from atendimento.engine.engineio.lean import Flag, ReceiveQueue
from atendimento.engine.engineio.link import RAW_TRANSPORT_EXTENSION, Reader
from atendimento.engine.engineio.types import Message

log = logging.getLogger("atendimento.engine")

# The scope's parts nothing reads once the application has returned from a handed-over connection.
_ASGI_ONLY = ("asgi", "extensions", "state", "subprotocols", "raw_path", "server")
# How long a close we sent waits for the peer's before the socket is closed anyway.
CLOSE_TIMEOUT_S = 10.0


class ClientDisconnected(OSError):
    """``send`` after the peer went away (ASGI: a server-specific ``OSError``)."""


class EngineWebSocketProtocol(asyncio.Protocol):
    __slots__ = (
        "_accepted",
        "_app",
        "_app_state",
        "_close_sent",
        "_close_timer",
        "_connections",
        "_default_headers",
        "_denial",
        "_disconnected",
        "_fragments",
        "_fragments_text",
        "_loop",
        "_queue",
        "_read_paused",
        "_reader",
        "_response",
        "_root_path",
        "_tasks",
        "_writable",
        "conn",
        "scope",
        "transport",
    )

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self._app = config.loaded_app
        self._root_path: str = config.root_path
        self._app_state = app_state
        self._connections: set[Any] = server_state.connections
        self._tasks: set[asyncio.Task[None]] = server_state.tasks
        self._default_headers: list[tuple[bytes, bytes]] = server_state.default_headers
        self._loop = _loop or asyncio.get_event_loop()
        self.conn = ServerProtocol(extensions=[], max_size=config.ws_max_size, logger=log)
        self.transport: asyncio.Transport | None = None
        self.scope: dict[str, Any] | None = None
        self._response: Response | None = None
        self._denial: tuple[int, list[tuple[bytes, bytes]], list[bytes]] | None = None
        self._queue = ReceiveQueue(self._loop)
        self._reader: Reader | None = None
        self._writable = Flag(self._loop)
        self._read_paused = False
        self._accepted = False
        self._close_sent = False
        self._disconnected = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._fragments: list[bytes] = []
        self._fragments_text = False

    # ------------------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport) or hasattr(transport, "write")
        self.transport = transport  # type: ignore[assignment]
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._disconnect(1005 if self._accepted else 1006)
        self._writable.set()  # a send waiting for the buffer to drain must not wait forever
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        for event in self.conn.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif isinstance(event, Frame):
                self._frame(event)
        if self.conn.parser_exc is not None and not self._close_sent:
            self._fail()  # websockets queued the close frame with the reason (1002, 1007, 1009)
        else:
            self._flush()  # pongs, and the echo of a close

    def eof_received(self) -> None:
        pass

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the application, close with 1012 (service restart)."""
        if self.transport is None or self.transport.is_closing():
            return
        if self._accepted and not self._close_sent:
            self._disconnect(1012)
            self.conn.send_close(1012)
            self._flush()
        self.transport.close()

    # ------------------------------------------------------------------------------- incoming side

    def _handshake(self, request: Request) -> None:
        response = self.conn.accept(request)
        if response.status_code != 101:  # not a valid WebSocket handshake: websockets' answer
            self._respond(response)
            return
        self._response = response
        transport = self.transport
        assert transport is not None
        raw_path, _, query = request.path.partition("?")
        subprotocols = [
            token.strip()
            for value in request.headers.get_all("Sec-WebSocket-Protocol")
            for token in value.split(",")
        ]
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if transport.get_extra_info("sslcontext") else "ws",
            "server": _address(transport.get_extra_info("sockname")),
            "client": _address(transport.get_extra_info("peername")),
            "root_path": self._root_path,
            "path": self._root_path + unquote(raw_path),
            "raw_path": (self._root_path + raw_path).encode("ascii"),
            "query_string": query.encode("ascii"),
            # websockets 17 decodes header values as ISO-8859-1; ASGI wants the bytes back.
            "headers": [
                (k.lower().encode("ascii"), v.encode("latin-1")) for k, v in request.headers.raw_items()
            ],
            "subprotocols": subprotocols,
            "state": self._app_state.copy(),
            # The denial response (ASGI's websocket.http.response) lets the application answer the
            # handshake with any HTTP response, e.g. a 503 with Retry-After while draining.
            "extensions": {
                RAW_TRANSPORT_EXTENSION: {"transport": transport, "hand_over": self._hand_over},
                "websocket.http.response": {},
            },
        }
        # The scope has its own copy of the headers; the websockets parser's generator frame keeps this
        # request alive for the connection's life, so empty it.
        request.headers = Headers()
        self._queue.put_nowait({"type": "websocket.connect"})
        task = self._loop.create_task(self._run_asgi())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            self._fragments_text = opcode is Opcode.TEXT
            if frame.fin:
                self._deliver(bytes(frame.data))
            else:
                self._fragments = [bytes(frame.data)]
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), []
                self._deliver(data)
        elif opcode is Opcode.CLOSE:
            self._closed_by_peer()
        # PING: websockets queued the pong (written by data_received); PONG: nothing asked for one.

    def _deliver(self, data: bytes) -> None:
        if self._close_sent:
            return  # the application is past websocket.close: drop, keep reading for the peer's close
        if self._fragments_text:
            try:
                message: Message = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:
                self.conn.fail(1007, "invalid UTF-8")
                self._fail()
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        if self._reader is not None:
            self._reader(message.get("text", data))
            return
        self._queue.put_nowait(message)
        if not self._read_paused and self.transport is not None:
            self._read_paused = True  # one message at a time: the next waits in the socket
            self.transport.pause_reading()

    def _closed_by_peer(self) -> None:
        transport = self.transport
        assert transport is not None
        if self._close_sent:  # the peer answered our close: the closing handshake is complete
            transport.close()
            return
        received = self.conn.close_rcvd
        self._disconnect(received.code if received else 1005, received.reason if received else "")
        self._flush()  # websockets' echo of the close
        transport.close()

    def _fail(self) -> None:
        sent = self.conn.close_sent
        self._disconnect(sent.code if sent else 1006, sent.reason if sent else "")
        self._flush()
        self._close_sent = True
        if self.transport is not None:
            self.transport.close()

    def _disconnect(self, code: int, reason: str = "") -> None:
        if not self._disconnected:
            self._disconnected = True
            if self._reader is not None:
                # Next turn, as the receive loop would have seen it: whatever closes the socket here
                # (the echo of a close, a failure's close frame) is written first.
                self._loop.call_soon(self._reader, None)
                return
            self._queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})

    def _hand_over(self, reader: Reader) -> None:
        """From now on incoming messages go to ``reader`` (``None``: the connection is gone), called
        from ``data_received``, and the ASGI application may return without closing the socket.

        Why: an idle connection is mostly waiting, and waiting in an ASGI receive loop keeps a task
        and its chain of coroutines (the app, its middleware, the engine's handler, the loop) alive
        for hours, about 3 KB per connection; a callback keeps one small object. What was queued
        before is handed over first, in order."""
        self._reader = reader
        for message in self._queue.drain():
            if message["type"] == "websocket.receive":
                reader(message["text"] if "text" in message else message["bytes"])
            else:
                reader(None)
        if self._read_paused and self.transport is not None:
            self._read_paused = False
            self.transport.resume_reading()

    # ------------------------------------------------------------------------------------------ ASGI

    async def _run_asgi(self) -> None:
        try:
            await self._app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except asyncio.CancelledError:
            raise  # the server is going away: not the application's failure
        except BaseException:
            log.exception("WebSocket application failed")
            if self._response is not None:
                self._reject(500)
        else:
            if self._response is not None:
                log.error("WebSocket application returned without accepting or closing")
                self._reject(500)
        if self._reader is not None:
            # Handed over: the scope now lives on only in the engine's session, which reads its
            # request part (headers, query, client, path); the ASGI-only parts go.
            scope, self.scope = self.scope or {}, None
            kept = {key: value for key, value in scope.items() if key not in _ASGI_ONLY}
            scope.clear()  # and refilled: a dict never shrinks by deleting keys
            scope.update(kept)
        elif self._close_timer is None and self.transport is not None:
            self.transport.close()

    async def receive(self) -> Message:
        message = await self._queue.get()
        if self._read_paused and self._queue.empty() and self.transport is not None:
            self._read_paused = False
            self.transport.resume_reading()
        return message

    async def send(self, message: Message) -> None:
        await self._writable.wait()
        if self._disconnected and message["type"] != "websocket.close":
            raise ClientDisconnected
        kind = message["type"]
        transport = self.transport
        assert transport is not None
        if self._response is not None:  # the handshake waits for the application's answer
            if kind == "websocket.accept":
                response, self._response = self._response, None
                headers = response.headers
                del headers["Date"]
                for name, value in [*self._default_headers, *message.get("headers", ())]:
                    headers[name.decode("latin-1")] = value.decode("latin-1")
                if message.get("subprotocol"):
                    headers["Sec-WebSocket-Protocol"] = message["subprotocol"]
                if not transport.is_closing():
                    self._accepted = True
                    self.conn.send_response(response)
                    self._flush()
            elif kind == "websocket.close":
                self._disconnect(1006)
                self._reject(403)
                transport.close()
            elif kind == "websocket.http.response.start":
                self._denial = (int(message["status"]), list(message.get("headers", ())), [])
            elif kind == "websocket.http.response.body" and self._denial is not None:
                self._denial[2].append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    self._deny(*self._denial)
            else:
                raise RuntimeError(f"expected websocket.accept or websocket.close, got {kind!r}")
        elif self._close_sent:
            if kind != "websocket.close":
                raise RuntimeError(f"{kind!r} after websocket.close")
        elif kind == "websocket.send":
            if message.get("bytes") is not None:
                self.conn.send_binary(message["bytes"])
            else:
                self.conn.send_text(message["text"].encode())
            self._flush()
        elif kind == "websocket.close":
            if self._disconnected or transport.is_closing():
                return
            code, reason = message.get("code", 1000), message.get("reason") or ""
            self._disconnect(code, reason)
            self.conn.send_close(code, reason)
            self._flush()
            self._close_sent = True
            if self._read_paused:  # read on, for the peer's answering close
                self._read_paused = False
                transport.resume_reading()
            self._close_timer = self._loop.call_later(CLOSE_TIMEOUT_S, transport.close)
        else:
            raise RuntimeError(f"expected websocket.send or websocket.close, got {kind!r}")

    # ----------------------------------------------------------------------------------------- output

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(data))

    def _respond(self, response: Response) -> None:
        self._close_sent = True
        self.conn.send_response(response)
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: list[bytes]) -> None:
        """The application's own HTTP answer instead of the 101 (the denial response extension)."""
        self._response = None
        self._denial = None
        self._disconnect(1006)
        cabecalhos = Headers()
        for name, value in headers:
            cabecalhos[name.decode("latin-1")] = value.decode("latin-1")
        corpo = b"".join(body)
        if "Content-Length" not in cabecalhos:
            cabecalhos["Content-Length"] = str(len(corpo))
        if "Connection" not in cabecalhos:
            cabecalhos["Connection"] = "close"
        self._respond(Response(status, http.HTTPStatus(status).phrase, cabecalhos, corpo))

    def _reject(self, status: int) -> None:
        """An HTTP answer instead of the 101 (403: refused by the application; 500: it failed)."""
        if self._response is None:
            return
        self._response = None
        self._respond(self.conn.reject(status, "Forbidden\n" if status == 403 else "Internal Server Error\n"))


def _address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None
