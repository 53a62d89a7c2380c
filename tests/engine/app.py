"""The server the interop tests talk to: small handlers that exercise every part of the engine API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from atendimento.engine import ConnectionRefused, Server, Socket


@dataclass
class TestApp:
    __test__ = False  # not a pytest test class

    server: Server
    disconnects: list[tuple[str, str, str]] = field(default_factory=list)  # (namespace, sid, reason)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record_disconnect(self, namespace: str, sid: str, reason: str) -> None:
        with self.changed:
            self.disconnects.append((namespace, sid, reason))
            self.changed.notify_all()

    def wait_disconnect(self, sid: str, timeout: float = 5.0) -> str:
        """The reason the server gave for ``sid``'s disconnect (blocks up to ``timeout``)."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: any(s == sid for _, s, _ in self.disconnects), timeout=timeout
            )
            if not found:
                raise TimeoutError(f"no disconnect for {sid}")
            return next(reason for _, s, reason in self.disconnects if s == sid)


def build_test_server(**options: Any) -> TestApp:
    options.setdefault("ping_interval_ms", 2000)
    options.setdefault("ping_timeout_ms", 2000)
    options.setdefault("serve_main_namespace", True)  # these tests use "/" throughout
    server = Server(**options)
    app = TestApp(server)
    main = server.of("/")

    @main.on_connect
    async def connect(socket: Socket, auth: dict[str, Any]) -> None:
        if auth.get("refuse"):
            raise ConnectionRefused("Unauthorized", {"code": "TOKEN_INVALIDO"})
        for room in auth.get("rooms", []):
            socket.join(room)
        socket.data["auth"] = auth
        socket.emit("welcome", {"sid": socket.sid, "rooms": sorted(socket.rooms)})

    @main.on_disconnect
    def disconnected(socket: Socket, reason: str) -> None:
        app.record_disconnect("/", socket.sid, reason)

    @main.on("echo")
    def echo(socket: Socket, *args: Any) -> None:
        socket.emit("echo", *args)

    @main.on("ack")
    async def ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @main.on("join")
    def join(socket: Socket, room: str) -> list[str]:
        socket.join(room)
        return sorted(socket.rooms)

    @main.on("leave")
    def leave(socket: Socket, room: str) -> None:
        socket.leave(room)

    @main.on("to_room")
    def to_room(socket: Socket, room: str, event: str, *args: Any) -> None:
        socket.to(room).emit(event, *args)

    @main.on("ns_room")
    def ns_room(socket: Socket, room: str, event: str, *args: Any) -> None:
        main.emit(event, *args, to=room)

    @main.on("ask")
    async def ask(socket: Socket, *args: Any) -> Any:
        answer = await socket.emit_with_ack("question", *args, timeout=5)
        return {"answer": answer}

    @main.on("kick")
    def kick(socket: Socket) -> None:
        socket.disconnect()

    @main.on("boom")
    def boom(socket: Socket) -> str:
        raise RuntimeError("handler failure the client must never see")

    @main.on_unknown_event
    def unknown(socket: Socket, event: str, *args: Any) -> dict[str, Any]:
        return {"unknown": event, "args": list(args)}

    chat = server.of("/chat")

    @chat.on("echo")
    def chat_echo(socket: Socket, *args: Any) -> None:
        socket.emit("echo", *args)

    @chat.on_disconnect
    def chat_disconnected(socket: Socket, reason: str) -> None:
        app.record_disconnect("/chat", socket.sid, reason)

    return app
