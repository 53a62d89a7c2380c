"""The adapter seam, in-process: how the server builds adapters, and what goes through them."""

from __future__ import annotations

from functools import partial

from atendimento.engine import Adapter, Namespace, Server

from .test_fastpath import connected_clients


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
