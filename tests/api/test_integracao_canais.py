"""An integration writes only into the channels it is bound to (``canalIds``): the demo's is bound to
every demo channel but the web chat; another channel of its tenant is 403 with nothing written."""

from __future__ import annotations

from .apoio import Ambiente, assert_erro

INTEGRACAO = "integracao@demo.local"


async def test_integracao_presa_aos_seus_canais(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    d = amb.demo
    registro = await amb.servico.registro_usuario(d.empresa_id, amb.id(INTEGRACAO))
    assert registro is not None
    assert registro.canal_ids == {d.canais["whatsapp"], d.canais["email"]}
    corpo = {"contato": "+5511966665555", "conteudo": "Oi"}
    for tipo in ("whatsapp", "email"):
        resposta = await amb.cliente.post(
            f"/atendimento/canais/{d.canais[tipo]}/mensagens", json=corpo, headers=amb.auth(INTEGRACAO)
        )
        assert resposta.status_code == 201, resposta.text
    antes = await amb.servico.listar_tickets(d.empresa_id)
    amb.publicador.limpar()
    recusa = await amb.cliente.post(
        f"/atendimento/canais/{d.canais['webchat']}/mensagens", json=corpo, headers=amb.auth(INTEGRACAO)
    )
    assert_erro(recusa, 403, "PROIBIDO")
    assert await amb.servico.listar_tickets(d.empresa_id) == antes
    assert amb.publicador.eventos == []


async def test_desvincular_vale_na_hora(amb: Ambiente) -> None:
    d = amb.demo
    corpo = {"contato": "+5511966665555", "conteudo": "Oi"}
    url = f"/atendimento/canais/{d.canais['whatsapp']}/mensagens"
    assert (await amb.cliente.post(url, json=corpo, headers=amb.auth(INTEGRACAO))).status_code == 201
    await amb.servico.alterar_usuario(
        d.empresa_id, amb.id(INTEGRACAO), canal_ids=frozenset({d.canais["webchat"]})
    )
    assert_erro(await amb.cliente.post(url, json=corpo, headers=amb.auth(INTEGRACAO)), 403, "PROIBIDO")
    webchat = f"/atendimento/canais/{d.canais['webchat']}/mensagens"
    assert (await amb.cliente.post(webchat, json=corpo, headers=amb.auth(INTEGRACAO))).status_code == 201
