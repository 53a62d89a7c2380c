"""The /admin namespace, driven by the real socket.io-client as the Admin UI drives it: credentials,
read-only features, server stats, the socket list and its changes, and what it never shows."""

from __future__ import annotations

import json
from typing import Any

import httpx
from apoio_node import ClientesAtendimento

from .conftest import ADMIN_SENHA, ADMIN_USUARIO, App

PROIBIDOS = {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "ALL_EVENTS"}
COOKIE = "sessao=COOKIE-QUE-NUNCA-APARECE"
XFF = "203.0.113.77"


def _admin(node: ClientesAtendimento, nome: str) -> list[dict[str, Any]]:
    return [r for r in node.registros if r.get("client") == nome]


async def _conectar_admin(node: ClientesAtendimento, nome: str, auth: dict[str, Any]) -> dict[str, Any]:
    return await node.conectar(
        nome, opcoes={"auth": auth, "transports": ["polling", "websocket"]}, namespace="/admin"
    )


async def test_wrong_credentials_get_connect_error_and_nothing_else(
    clientes: tuple[App, ClientesAtendimento],
) -> None:
    app, node = clientes
    for auth in (
        {"username": ADMIN_USUARIO, "password": "errada"},
        {"username": "outro", "password": ADMIN_SENHA},
        {"sessionId": "inventada"},
        {},
    ):
        nome = f"intruso-{len(node.registros)}"
        registro = await _conectar_admin(node, nome, auth)
        assert registro["type"] == "connect_error", registro
        assert registro["message"] == "invalid credentials"
        assert [r for r in _admin(node, nome) if r["type"] == "event"] == []
    # A tenant's token is no admin credential either.
    registro = await _conectar_admin(node, "atendente", {"token": app.token("ana@demo.local")})
    assert registro["type"] == "connect_error"


async def test_admin_sees_config_stats_and_sockets_redacted(
    clientes: tuple[App, ClientesAtendimento],
) -> None:
    app, node = clientes
    token_ana = app.token("ana@demo.local")
    opcoes_ana = {
        "auth": {"token": token_ana},
        "transports": ["polling", "websocket"],
        "extraHeaders": {"Cookie": COOKIE, "X-Forwarded-For": XFF, "Authorization": f"Bearer {token_ana}"},
    }
    assert (await node.conectar("ana", opcoes=opcoes_ana))["type"] == "connect"
    assert (await node.conectar("carla", app.token("carla@outra.local")))["type"] == "connect"

    registro = await _conectar_admin(node, "op", {"username": ADMIN_USUARIO, "password": ADMIN_SENHA})
    assert registro["type"] == "connect", registro
    sessao = await node.esperar_evento("op", "session")
    config = await node.esperar_evento("op", "config")
    assert "AGGREGATED_EVENTS" in config["supportedFeatures"]
    assert not PROIBIDOS & set(config["supportedFeatures"])
    todos = await node.esperar_evento("op", "all_sockets")
    por_usuario = {s["data"]["usuarioId"]: s for s in todos}
    ana = por_usuario[app.resumo.id_de("ana@demo.local")]
    carla = por_usuario[app.resumo.id_de("carla@outra.local")]
    assert ana["nsp"] == "/atendimento" and ana["data"]["empresaId"] == app.resumo.empresa_id
    assert ana["data"]["role"] == "atendente" and ana["data"]["transport"] in ("polling", "websocket")
    assert ana["transport"] == ana["data"]["transport"]
    assert f"empresa:{app.resumo.empresa_id}:atendentes" in ana["rooms"] and ana["id"] in ana["rooms"]
    assert carla["data"]["empresaId"] == app.resumo.outra_empresa_id
    assert ana["clientId"] and ana["clientId"] not in json.dumps(ana["handshake"])

    # Stats come at once and then every 2 s, with the aggregated counts.
    stats = await node.esperar_evento("op", "server_stats")
    assert stats["clientsCount"] >= 3 and {"name": "/atendimento", "socketsCount": 2} in stats["namespaces"]
    inicio = len(node.registros)
    stats = await node.esperar_evento("op", "server_stats", desde=inicio, prazo=5)
    tipos = {e["type"] for e in stats["aggregatedEvents"]}
    assert {"rawConnection", "packetsIn", "packetsOut", "bytesOut"} & tipos

    # Changes: a join, a message (whose contents never reach /admin), a disconnect.
    inicio = len(node.registros)
    ticket = app.resumo.tickets[0]
    assert (await node.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"] is True
    juntou = await node.esperar(
        lambda r: r.get("client") == "op" and r.get("event") == "room_joined", desde=inicio
    )
    assert juntou["args"][:3] == [
        "/atendimento",
        f"empresa:{app.resumo.empresa_id}:ticket:{ticket}",
        ana["id"],
    ]
    segredo = "conteudo-de-cliente-que-o-operador-nao-ve"
    async with httpx.AsyncClient(base_url=app.url) as http:
        resposta = await http.post(
            f"/atendimento/tickets/{ticket}/mensagens",
            json={"conteudo": segredo},
            headers={"Authorization": f"Bearer {token_ana}"},
        )
        assert resposta.status_code < 300, resposta.text
    await node.esperar_evento("ana", "mensagem:nova", desde=inicio)
    inicio = len(node.registros)
    await node.desconectar("carla")
    saiu = await node.esperar(
        lambda r: r.get("client") == "op" and r.get("event") == "socket_disconnected", desde=inicio
    )
    assert saiu["args"][:3] == ["/atendimento", carla["id"], "client namespace disconnect"]
    await node.conectar("bruno", app.token("bruno@demo.local"))
    novo = await node.esperar(lambda r: r.get("client") == "op" and r.get("event") == "socket_connected")
    assert novo["args"][0]["data"]["usuarioId"] == app.resumo.id_de("bruno@demo.local")

    visto = json.dumps(_admin(node, "op"))
    for nunca in (token_ana, "COOKIE-QUE-NUNCA-APARECE", XFF, segredo, "authorization", "cookie"):
        assert nunca.lower() not in visto.lower(), nunca
    assert '"auth"' not in visto

    # The session id logs in again without the password (the UI's reload), and the admin counts
    # toward no tenant: not in presence, not in the per-tenant metrics.
    registro = await _conectar_admin(node, "op2", {"sessionId": sessao})
    assert registro["type"] == "connect"
    async with httpx.AsyncClient(base_url=app.url) as http:
        metricas = (await http.get("/metrics", headers=app.metricas())).text
    sockets = [linha for linha in metricas.splitlines() if linha.startswith("atendimento_empresa_sockets{")]
    assert sorted(sockets) == [f'atendimento_empresa_sockets{{empresa="{app.resumo.empresa_id}"}} 2.0']


async def test_admin_events_are_dropped_read_only(clientes: tuple[App, ClientesAtendimento]) -> None:
    app, node = clientes
    assert (await node.conectar("ana", app.token("ana@demo.local")))["type"] == "connect"
    await _conectar_admin(node, "op", {"username": ADMIN_USUARIO, "password": ADMIN_SENHA})
    todos = await node.esperar_evento("op", "all_sockets")
    ana = todos[0]
    inicio = len(node.registros)
    node.emitir("op", "_disconnect", "/atendimento", True, ana["id"])
    node.emitir("op", "emit", "/atendimento", ana["id"], "notificacao", {"tipo": "falsa"})
    node.emitir("op", "join", "/atendimento", "empresa:outra", ana["id"])
    # Still connected, nothing received, no room joined.
    assert await node.pedir("ana", "ticket:sair", {"ticketId": app.resumo.tickets[0]}) == {
        "success": True,
        "ticketId": app.resumo.tickets[0],
    }
    assert node.eventos("ana", "notificacao") == []
    assert [r for r in node.registros[inicio:] if r.get("type") == "disconnect"] == []
    nsp = app.aplicacao.server.of("/atendimento")
    assert "empresa:outra" not in nsp.sockets[ana["id"]].rooms
