"""Channels out over REST: the endpoint (roles, the secret shown once, another tenant refused),
the deliveries list, and status back from the integration (forward only, late, repeated, out of
order; externoId unique per channel; mensagem:status to the right rooms). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from .apoio import Ambiente, assert_erro


def _url(amb: Ambiente, canal: str | None = None) -> str:
    return f"/atendimento/canais/{canal or amb.demo.canais['whatsapp']}/webhook"


async def _mensagem_do_agente(amb: Ambiente) -> tuple[str, str]:
    canal = amb.demo.canais["whatsapp"]
    r = await amb.cliente.post(
        f"/atendimento/canais/{canal}/mensagens",
        json={"contato": "+5511988887777", "conteudo": "oi"},
        headers=amb.auth("integracao@demo.local"),
    )
    ticket_id = r.json()["data"]["ticket"]["id"]
    m = await amb.cliente.post(
        f"/atendimento/tickets/{ticket_id}/mensagens",
        json={"conteudo": "olá"},
        headers=amb.auth("ana@demo.local"),
    )
    assert m.status_code == 201, m.text
    assert m.json()["data"]["status"] == "pendente" and m.json()["data"]["externoId"] is None
    return ticket_id, m.json()["data"]["id"]


async def test_webhook_so_para_gestao_segredo_uma_vez(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    for email in ("ana@demo.local", "integracao@demo.local", "vendas@demo.local"):
        r = await amb.cliente.put(_url(amb), json={"url": "https://exemplo.com/h"}, headers=amb.auth(email))
        assert_erro(r, 403, "PROIBIDO")
    gestor = amb.auth("gestor@demo.local")
    r = await amb.cliente.put(_url(amb), json={"url": "https://exemplo.com/h"}, headers=gestor)
    assert r.status_code == 200, r.text
    dados = r.json()["data"]
    assert dados["ativo"] is True and dados["url"] == "https://exemplo.com/h"
    assert dados["segredo"].startswith("whsec_") and len(dados["segredo"]) >= 6 + 32
    lido = (await amb.cliente.get(_url(amb), headers=amb.auth("admin@demo.local"))).json()["data"]
    assert "segredo" not in lido and lido["url"] == "https://exemplo.com/h"
    novo = (await amb.cliente.post(f"{_url(amb)}/segredo", headers=gestor)).json()["data"]
    assert novo["segredo"] != dados["segredo"] and novo["segredo"].startswith("whsec_")
    assert (await amb.cliente.delete(_url(amb), headers=gestor)).status_code == 200
    assert_erro(await amb.cliente.get(_url(amb), headers=gestor), 404, "WEBHOOK_NAO_ENCONTRADO")


async def test_url_invalida_e_http_sem_permissao(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    gestor = amb.auth("gestor@demo.local")
    for url in ("ftp://exemplo.com/", "http://exemplo.com/h", "https://user:pw@exemplo.com/", "nada", ""):
        r = await amb.cliente.put(_url(amb), json={"url": url}, headers=gestor)
        assert r.status_code == 422, (url, r.text)
    assert_erro(await amb.cliente.get(_url(amb), headers=gestor), 404, "WEBHOOK_NAO_ENCONTRADO")


async def test_outra_empresa_recebe_404_em_toda_rota(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    gestor = amb.auth("gestor@demo.local")
    r = await amb.cliente.put(_url(amb), json={"url": "https://exemplo.com/h"}, headers=gestor)
    assert r.status_code == 200
    _, mensagem_id = await _mensagem_do_agente(amb)
    # The other tenant's channel, seen by the demo tenant's gestor: unknown.
    outro = amb.demo.outra_canal_id
    for metodo, caminho, corpo in (
        ("PUT", _url(amb, outro), {"url": "https://exemplo.com/x"}),
        ("GET", _url(amb, outro), None),
        ("DELETE", _url(amb, outro), None),
        ("POST", f"{_url(amb, outro)}/segredo", None),
        ("POST", f"{_url(amb, outro)}/reativar", None),
        ("GET", f"/atendimento/canais/{outro}/entregas", None),
    ):
        r = await amb.cliente.request(metodo, caminho, json=corpo, headers=gestor)
        assert_erro(r, 404, "CANAL_NAO_ENCONTRADO")
    # The demo tenant's channel and message, asked by a user of another tenant: unknown too.
    carla = {"Authorization": f"Bearer {_token_outra(amb)}"}
    canal = amb.demo.canais["whatsapp"]
    r = await amb.cliente.post(
        f"/atendimento/canais/{canal}/mensagens/{mensagem_id}/status",
        json={"status": "enviada"},
        headers=carla,
    )
    assert r.status_code in (403, 404)
    # The demo tenant's integration, naming the other tenant's channel: unknown.
    r = await amb.cliente.post(
        f"/atendimento/canais/{outro}/mensagens/{mensagem_id}/status",
        json={"status": "enviada"},
        headers=amb.auth("integracao@demo.local"),
    )
    assert_erro(r, 404, "CANAL_NAO_ENCONTRADO")
    entregas = (await amb.cliente.get(f"/atendimento/canais/{canal}/entregas", headers=gestor)).json()["data"]
    assert len(entregas) == 1
    r = await amb.cliente.post(
        f"/atendimento/canais/{outro}/entregas/{entregas[0]['id']}/reenviar", headers=gestor
    )
    assert_erro(r, 404, "CANAL_NAO_ENCONTRADO")


def _token_outra(amb: Ambiente) -> str:
    return amb.token("carla@outra.local")


async def _status(amb: Ambiente, mensagem_id: str, **corpo: Any) -> Any:
    canal = amb.demo.canais["whatsapp"]
    return await amb.cliente.post(
        f"/atendimento/canais/{canal}/mensagens/{mensagem_id}/status",
        json=corpo,
        headers=amb.auth("integracao@demo.local"),
    )


async def test_status_so_avanca_tardio_repetido_e_fora_de_ordem(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    ticket_id, mensagem_id = await _mensagem_do_agente(amb)
    amb.publicador.limpar()
    r = await _status(amb, mensagem_id, status="entregue", externoId="wamid.1", em="2026-12-07T10:00:01.000Z")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "entregue" and r.json()["data"]["externoId"] == "wamid.1"
    # Late (enviada after entregue) and repeated: nothing changes, 200 with the current state.
    for atrasado in (
        {"status": "enviada"},
        {"status": "entregue"},
        {"status": "entregue", "externoId": "wamid.1"},
    ):
        r = await _status(amb, mensagem_id, **atrasado)
        assert r.status_code == 200 and r.json()["data"]["status"] == "entregue", r.text
    r = await _status(amb, mensagem_id, status="lida")
    assert r.json()["data"]["status"] == "lida"
    # falhou only before lida.
    r = await _status(amb, mensagem_id, status="falhou", erro={"codigo": "X", "descricao": "y"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "lida"
    publicados = [e.args[0] for e in amb.publicador.eventos if e.nome == "mensagem_status"]
    assert [p.status for p in publicados] == ["entregue", "lida"]
    assert all(p.ticket_id == ticket_id and p.mensagem_id == mensagem_id for p in publicados)
    lista = await amb.cliente.get(
        f"/atendimento/tickets/{ticket_id}/mensagens", headers=amb.auth("ana@demo.local")
    )
    dados = {m["id"]: m for m in lista.json()["data"]}
    assert (dados[mensagem_id]["status"], dados[mensagem_id]["externoId"]) == ("lida", "wamid.1")
    cliente = [m for m in dados.values() if m["atendenteId"] is None]
    assert cliente and all(m["status"] is None for m in cliente)  # a customer's message has none


async def test_falhou_com_erro_e_externo_id_unico_por_canal(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    _, primeira = await _mensagem_do_agente(amb)
    _, segunda = await _mensagem_do_agente(amb)
    r = await _status(amb, primeira, status="enviada", externoId="ext-1")
    assert r.status_code == 200
    assert_erro(
        await _status(amb, primeira, status="entregue", externoId="ext-2"), 409, "EXTERNO_ID_CONFLITO"
    )
    assert_erro(await _status(amb, segunda, status="enviada", externoId="ext-1"), 409, "EXTERNO_ID_CONFLITO")
    r = await _status(amb, segunda, status="falhou", erro={"codigo": "131026", "descricao": "não entregue"})
    assert r.json()["data"]["status"] == "falhou"
    assert r.json()["data"]["erro"] == {"codigo": "131026", "descricao": "não entregue"}
    assert (await _status(amb, segunda, status="entregue")).json()["data"]["status"] == "falhou"
    assert_erro(await _status(amb, segunda, status="perdida"), 422, "PAYLOAD_INVALIDO")
    assert_erro(await _status(amb, "nao-existe", status="enviada"), 404, "MENSAGEM_NAO_ENCONTRADA")
    r = await amb.cliente.post(
        f"/atendimento/canais/{amb.demo.canais['whatsapp']}/mensagens/{primeira}/status",
        json={"status": "lida"},
        headers=amb.auth("ana@demo.local"),
    )
    assert_erro(r, 403, "PROIBIDO")
