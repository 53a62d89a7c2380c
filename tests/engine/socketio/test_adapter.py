"""The adapter seam, in-process: how the server builds adapters, and what goes through them."""

from __future__ import annotations

from collections.abc import Set
from functools import partial
from typing import Any

import pytest

from atendimento.engine import EVERYONE, Adapter, Namespace, Reason, Server, Target

from ..test_fastpath import connected_clients, settle


class Marked(Adapter):
    """An adapter built with an extra argument, as a cluster adapter is built with its link."""

    def __init__(self, namespace: Namespace, mark: str) -> None:
        super().__init__(namespace)
        self.mark = mark


def test_default_factory_is_the_in_process_adapter() -> None:
    server = Server()
    assert type(server.of("/").adapter) is Adapter
    assert type(server.of("/outro").adapter) is Adapter


def test_factory_gets_the_namespace() -> None:
    built: list[str] = []

    def factory(namespace: Namespace) -> Adapter:
        built.append(namespace.name)
        return Marked(namespace, "m")

    server = Server(adapter_factory=factory)
    ns = server.of("/atendimento")
    assert isinstance(ns.adapter, Marked) and ns.adapter.namespace is ns
    assert built == ["/", "/atendimento"]


def test_set_adapter_factory_replaces_existing_adapters_and_keeps_their_rooms() -> None:
    server = Server()
    main, early = server.of("/"), server.of("/cedo")
    early.adapter.add("sid-1", "sala")
    server.set_adapter_factory(partial(Marked, mark="novo"))
    late = server.of("/tarde")
    for ns in (main, early, late):
        assert isinstance(ns.adapter, Marked) and ns.adapter.mark == "novo"
        assert ns.adapter.namespace is ns
    assert early.adapter.rooms == {"sala": {"sid-1"}}
    assert early.adapter.sids == {"sid-1": {"sala"}}


async def test_sockets_use_the_replaced_adapter() -> None:
    server = Server()
    ns = server.of("/atendimento")
    server.set_adapter_factory(partial(Marked, mark="x"))
    clients = await connected_clients(server, 1)
    (socket,) = ns.sockets.values()
    socket.join("sala")
    assert isinstance(ns.adapter, Marked) and ns.adapter.rooms == {"sala": {socket.sid}}
    for client in clients:
        await client.close()


# --- acting on sockets through the adapter ---------------------------------------------------------


class Recording(Adapter):
    """Records the requests that reach the adapter, then does what the base adapter does."""

    def __init__(self, namespace: Namespace) -> None:
        super().__init__(namespace)
        self.calls: list[tuple[Any, ...]] = []

    def disconnect_sockets(self, target: Target, reason: str = "io server disconnect") -> None:
        self.calls.append(("disconnect", target, reason))
        super().disconnect_sockets(target, reason)

    def sockets_join(self, target_rooms: Set[str], target: Target) -> None:
        self.calls.append(("join", target_rooms, target))
        super().sockets_join(target_rooms, target)

    def sockets_leave(self, target_rooms: Set[str], target: Target) -> None:
        self.calls.append(("leave", target_rooms, target))
        super().sockets_leave(target_rooms, target)


async def test_disconnect_room_disconnects_every_member_with_the_reason() -> None:
    server = Server(adapter_factory=Recording)
    ns = server.of("/atendimento")
    reasons: dict[str, str] = {}
    ns.on_disconnect(lambda socket, reason: reasons.__setitem__(socket.sid, reason))
    clients = await connected_clients(server, 3)
    a, b, c = ns.sockets.values()
    a.join("user:x")
    b.join("user:x")
    c.join("user:y")
    ns.disconnect_room("user:x", Reason.SERVER_DISCONNECT)
    await settle()
    assert reasons == {a.sid: Reason.SERVER_DISCONNECT, b.sid: Reason.SERVER_DISCONNECT}
    assert list(ns.sockets) == [c.sid]
    assert not ns.adapter.rooms.get("user:x")
    by_sid = dict(zip((a.sid, b.sid, c.sid), clients, strict=True))
    assert "41/atendimento," in by_sid[a.sid].received()
    assert "41/atendimento," not in by_sid[c.sid].received()
    ns.disconnect_room(c.sid)  # a socket id is a room of one
    await settle()
    assert reasons[c.sid] == "io server disconnect" and not ns.sockets
    assert isinstance(ns.adapter, Recording)
    assert ns.adapter.calls == [
        ("disconnect", Target(frozenset({"user:x"})), Reason.SERVER_DISCONNECT),
        ("disconnect", Target(frozenset({c.sid})), "io server disconnect"),
    ]
    for client in clients:
        await client.close()


async def test_operator_joins_leaves_and_disconnects_through_the_adapter() -> None:
    server = Server(adapter_factory=Recording)
    ns = server.of("/atendimento")
    reasons: dict[str, str] = {}
    ns.on_disconnect(lambda socket, reason: reasons.__setitem__(socket.sid, reason))
    clients = await connected_clients(server, 3)
    a, b, c = ns.sockets.values()
    a.join("ticket:1")
    b.join("ticket:1")
    b.join("gestor")
    ns.to("ticket:1").except_("gestor").sockets_join("arquivados")
    assert {s.sid for s in ns.sockets_in("arquivados")} == {a.sid}
    ns.in_(["ticket:1", c.sid]).sockets_join(["x", "y"])
    assert a.rooms == {a.sid, "ticket:1", "arquivados", "x", "y"}
    assert b.rooms == {b.sid, "ticket:1", "gestor", "x", "y"}
    assert c.rooms == {c.sid, "x", "y"}
    ns.except_("gestor").sockets_leave("x")  # no `to`: every socket of the namespace
    assert {s.sid for s in ns.sockets_in("x")} == {b.sid}
    a.to("y").disconnect_sockets()  # everyone in y but a
    await settle()
    assert reasons == {b.sid: "io server disconnect", c.sid: "io server disconnect"}
    ns.to("arquivados").disconnect_sockets(reason="fim")
    await settle()
    assert reasons[a.sid] == "fim" and not ns.sockets and not ns.adapter.rooms
    assert isinstance(ns.adapter, Recording)
    assert ns.adapter.calls == [
        ("join", {"arquivados"}, Target(frozenset({"ticket:1"}), frozenset({"gestor"}))),
        ("join", {"x", "y"}, Target(frozenset({"ticket:1", c.sid}))),
        ("leave", {"x"}, Target(exclude_rooms=frozenset({"gestor"}))),
        ("disconnect", Target(frozenset({"y"}), exclude_sids=frozenset({a.sid})), "io server disconnect"),
        ("disconnect", Target(frozenset({"arquivados"})), "fim"),
    ]
    for client in clients:
        await client.close()


# --- Target ----------------------------------------------------------------------------------------


def test_target_is_a_frozen_hashable_value() -> None:
    target = Target(frozenset({"a"}), frozenset({"b"}), frozenset({"sid-1"}))
    assert target == Target(frozenset({"a"}), frozenset({"b"}), frozenset({"sid-1"}))
    assert hash(target) == hash(Target(frozenset({"a"}), frozenset({"b"}), frozenset({"sid-1"})))
    assert Target.room("a") == Target(frozenset({"a"}))
    assert EVERYONE == Target() and not (EVERYONE.rooms or EVERYONE.exclude_rooms or EVERYONE.exclude_sids)
    with pytest.raises(AttributeError):
        target.rooms = frozenset()  # type: ignore[misc]
    assert not hasattr(target, "__dict__")


def test_recipients_of_a_target() -> None:
    server = Server()
    ns = server.of("/atendimento")
    adapter = ns.adapter
    ns.sockets.update(dict.fromkeys(("s1", "s2", "s3"), None))  # type: ignore[arg-type]
    adapter.add("s1", "a")
    adapter.add("s2", "a")
    adapter.add("s2", "b")
    adapter.add("s3", "c")
    assert adapter.recipients(Target.room("a")) is adapter.rooms["a"]  # one room: the live set, no copy
    assert set(adapter.recipients(EVERYONE)) == {"s1", "s2", "s3"}
    assert sorted(adapter.recipients(Target(frozenset({"a", "c"})))) == ["s1", "s2", "s3"]
    assert list(adapter.recipients(Target(frozenset({"a"}), frozenset({"b"})))) == ["s1"]
    assert sorted(adapter.recipients(Target(exclude_sids=frozenset({"s2"})))) == ["s1", "s3"]
    assert list(adapter.recipients(Target.room("s3"))) == ["s3"]  # a socket id is a room of one
    assert list(adapter.recipients(Target.room("nobody"))) == []
