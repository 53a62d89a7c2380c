"""The emitters' wires decoded into requests, and everything else refused as malformed (no Redis
needed: the bytes are built here as the emitters' sources describe them)."""

from __future__ import annotations

import datetime
import json

import msgpack
import pytest

from atendimento.cluster.emissores import (
    Malformada,
    decodificar_node_emit,
    decodificar_node_pedido,
    decodificar_python,
)

NS = "/atendimento"


def _node(packet: object, opts: object = None) -> bytes:
    corpo = [
        "emitter",
        packet,
        opts if opts is not None else {"rooms": ["user:1"], "except": [], "flags": {}},
    ]
    return msgpack.packb(corpo, use_bin_type=True, datetime=True)


def test_node_emit() -> None:
    packet = {"type": 2, "data": ["notificacao", {"tipo": "x"}, 3], "nsp": NS}
    pedido = decodificar_node_emit(_node(packet, {"rooms": ["user:1", "ticket:2"], "except": ["user:3"]}))
    assert (pedido.origem, pedido.tipo, pedido.nsp, pedido.evento) == ("node", "emit", NS, "notificacao")
    assert pedido.salas == ("user:1", "ticket:2") and pedido.exceto == ("user:3",)
    assert pedido.args == ({"tipo": "x"}, 3)


def test_node_date_como_json_stringify() -> None:
    # notepack.io 3 (the emitter's encoder) writes a Date as msgpack's timestamp extension, -1.
    quando = datetime.datetime(2026, 12, 1, 16, 48, 20, 123000, tzinfo=datetime.UTC)
    packet = {"type": 2, "data": ["notificacao", {"a": None, "quando": [quando]}], "nsp": NS}
    pedido = decodificar_node_emit(_node(packet))
    assert pedido.args == ({"a": None, "quando": ["2026-12-01T16:48:20.123Z"]},)


@pytest.mark.parametrize(
    "dados",
    [
        b"\xc1",  # never used in msgpack
        b"",
        msgpack.packb(["emitter", {"type": 2}]),  # two items
        _node({"type": 3, "data": ["x"], "nsp": NS}),  # an ACK, not an EVENT
        _node({"type": 2, "data": [], "nsp": NS}),
        _node({"type": 2, "data": [1], "nsp": NS}),  # event name not a string
        _node({"type": 2, "data": ["x"], "nsp": NS}, {"rooms": [1]}),
        _node({"type": 2, "data": ["x", msgpack.ExtType(5, b"ab")], "nsp": NS}),
        msgpack.packb(["emitter", {"type": 2, "data": ["x"], "nsp": NS}, {1: 2}], strict_types=False),
    ],
)
def test_node_malformado(dados: bytes) -> None:
    with pytest.raises(Malformada):
        decodificar_node_emit(dados)


def test_node_pedidos() -> None:
    opts = {"rooms": ["user:1"], "except": ["user:2"]}
    junta = decodificar_node_pedido(json.dumps({"type": 2, "opts": opts, "rooms": ["ticket:9"]}).encode(), NS)
    assert (junta.tipo, junta.salas, junta.exceto, junta.salas_alvo) == (
        "join",
        ("user:1",),
        ("user:2",),
        ("ticket:9",),
    )
    sai = decodificar_node_pedido(json.dumps({"type": 3, "opts": opts, "rooms": "ticket:9"}).encode(), NS)
    assert sai.tipo == "leave" and sai.salas_alvo == ("ticket:9",)
    fora = decodificar_node_pedido(json.dumps({"type": 4, "opts": opts, "close": True}).encode(), NS)
    assert fora.tipo == "disconnect" and fora.nsp == NS
    for ruim in (b"{", b"[]", json.dumps({"type": 6, "data": []}).encode(), json.dumps({"type": 2}).encode()):
        with pytest.raises(Malformada):
            decodificar_node_pedido(ruim, NS)


def test_python() -> None:
    envelope = {
        "method": "emit",
        "event": "notificacao",
        "data": [{"tipo": "x"}],
        "binary": False,
        "namespace": NS,
        "room": ["user:1", "empresa:e"],
        "skip_sid": "abc",
        "callback": None,
        "host_id": "h",
    }
    pedido = decodificar_python(json.dumps(envelope).encode())
    assert (pedido.origem, pedido.evento, pedido.salas, pedido.exceto_sids) == (
        "python",
        "notificacao",
        ("user:1", "empresa:e"),
        ("abc",),
    )
    assert decodificar_python(json.dumps({**envelope, "namespace": None}).encode()).nsp == "/"
    for ruim in (
        {**envelope, "method": "enter_room"},
        {**envelope, "binary": True},
        {**envelope, "callback": ["r", NS, 1]},
        {**envelope, "data": "x"},
        {**envelope, "room": 5},
    ):
        with pytest.raises(Malformada):
            decodificar_python(json.dumps(ruim).encode())
    with pytest.raises(Malformada):
        decodificar_python(b"\xff\xfe")
