"""The error envelope everywhere (unknown routes, methods, bodies, crashes), health and readiness,
CORS and the OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from atendimento.api import saude
from atendimento.api.saidas import ProntidaoSaida, SaudeSaida
from atendimento.api.schemas import Prioridade, StatusTicket, TipoMensagem
from atendimento.config import Settings
from atendimento.domain.entidades import PRIORIDADES, STATUS_TICKET, TIPOS_MENSAGEM

from .apoio import SEGREDO, Ambiente, assert_erro, assert_ok

ANA = "ana@demo.local"
ADMIN = "admin@demo.local"


async def test_rota_desconhecida_404_json(amb: Ambiente) -> None:
    # (/socket.io/ is the engine's, in front of the API: it answers with Engine.IO's own errors.)
    for url in ("/nada", "/atendimento", "/atendimento/tickets/x/y/z", "/socket.iox/"):
        assert_erro(await amb.cliente.get(url), 404, "ROTA_NAO_ENCONTRADA")


async def test_metodo_errado_405_json_com_allow_de_todos_os_metodos(amb: Ambiente) -> None:
    resposta = await amb.cliente.delete("/atendimento/tickets", headers=amb.auth(ANA))
    assert_erro(resposta, 405, "METODO_NAO_PERMITIDO")
    # Allow names every method of the path, not only the first route's (FastAPI has one per method).
    assert resposta.headers["allow"] == "GET, POST"
    # A bare OPTIONS (no CORS preflight) is a method like another: 405 with the same Allow.
    for caminho, metodos in (
        ("/atendimento/filas", "GET, POST"),
        (f"/atendimento/tickets/{amb.demo.tickets[0]}", "GET, PATCH"),
        (f"/atendimento/canais/{amb.demo.canais['email']}/webhook", "DELETE, GET, PUT"),
    ):
        resposta = await amb.cliente.options(caminho, headers=amb.auth(ADMIN))
        assert_erro(resposta, 405, "METODO_NAO_PERMITIDO")
        assert resposta.headers["allow"] == metodos


async def test_json_malformado_400(amb: Ambiente) -> None:
    resposta = await amb.cliente.post(
        "/atendimento/tickets",
        content=b"{nope",
        headers={**amb.auth(ANA), "content-type": "application/json"},
    )
    assert "JSON malformado" in assert_erro(resposta, 400, "PAYLOAD_INVALIDO")["error"]


async def test_corpo_que_nao_e_json_422(amb: Ambiente) -> None:
    resposta = await amb.cliente.post(
        "/atendimento/tickets", content=b"a=b", headers={**amb.auth(ANA), "content-type": "text/plain"}
    )
    assert_erro(resposta, 422, "PAYLOAD_INVALIDO")


async def test_json_profundo_nao_derruba(amb: Ambiente) -> None:
    profundo = b'{"conteudo": "x", "metadados": {"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}"
    resposta = await amb.cliente.post(
        f"/atendimento/tickets/{amb.demo.tickets[0]}/mensagens",
        content=profundo,
        headers={**amb.auth(ANA), "content-type": "application/json"},
    )
    assert resposta.status_code in (400, 422)
    assert_erro(resposta, resposta.status_code, "PAYLOAD_INVALIDO")
    assert amb.publicador.eventos == []


async def test_corpo_grande_demais_413(amb: Ambiente) -> None:
    corpo = b'{"conteudo": "' + b"x" * 70_000 + b'"}'
    resposta = await amb.cliente.post(
        f"/atendimento/tickets/{amb.demo.tickets[0]}/mensagens",
        content=corpo,
        headers={**amb.auth(ANA), "content-type": "application/json"},
    )
    assert_erro(resposta, 413, "PAYLOAD_INVALIDO")


async def test_corpo_grande_demais_sem_content_length_413(amb: Ambiente) -> None:
    async def pedacos() -> AsyncIterator[bytes]:
        yield b'{"conteudo": "'
        for _ in range(20):
            yield b"x" * 10_000
        yield b'"}'

    resposta = await amb.cliente.post(
        f"/atendimento/tickets/{amb.demo.tickets[0]}/mensagens",
        content=pedacos(),
        headers={**amb.auth(ANA), "content-type": "application/json"},
    )
    assert "content-length" not in resposta.request.headers
    assert_erro(resposta, 413, "PAYLOAD_INVALIDO")
    assert amb.publicador.eventos == []


class _ServicoQuebrado:
    async def confirmar_usuario(self, *_: Any, **__: Any) -> Any:
        return None

    async def listar_tickets_detalhados(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError("segredo interno: senha do banco é hunter2")


async def test_erro_inesperado_500_sem_detalhes(amb_fabrica, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    amb: Ambiente = await amb_fabrica(servico=_ServicoQuebrado())
    resposta = await amb.cliente.get("/atendimento/tickets", headers=amb.auth(ANA))
    assert_erro(resposta, 500, "ERRO_INTERNO")
    assert "hunter2" not in resposta.text
    assert "RuntimeError" not in resposta.text
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)


# --- health / ready ------------------------------------------------------------------------------


async def test_health(amb: Ambiente) -> None:
    assert assert_ok(await amb.cliente.get("/health"), 200, SaudeSaida) == {"status": "ok"}


async def _banco_ok() -> tuple[str, bool, str | None]:
    return "banco", True, None


async def _redis_fora() -> tuple[str, bool, str | None]:
    return "redis", False, "connection refused 10.0.0.5:6379"


async def _explode() -> tuple[str, bool, str | None]:
    raise OSError("10.0.0.9 unreachable")


async def _lento() -> tuple[str, bool, str | None]:
    await asyncio.sleep(10)
    return "lento", True, None


async def test_ready_tudo_ok(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    amb: Ambiente = await amb_fabrica(readiness=[_banco_ok])
    data = assert_ok(await amb.cliente.get("/ready"), 200, ProntidaoSaida)
    assert data == {"status": "pronto", "verificacoes": {"banco": True, "drenagem": True}}


async def test_ready_sem_verificacoes(amb: Ambiente) -> None:
    assert (await amb.cliente.get("/ready")).status_code == 200


async def test_ready_com_banco_real(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    ambiente: dict[str, Any] = {}

    async def banco() -> tuple[str, bool, str | None]:
        return "banco", await ambiente["amb"].storage.ping(), None

    ambiente["amb"] = await amb_fabrica(readiness=[banco])
    assert (await ambiente["amb"].cliente.get("/ready")).status_code == 200


@pytest.mark.parametrize("falha", [_redis_fora, _explode, _lento])
async def test_ready_falha_503_sem_detalhes(amb_fabrica, monkeypatch: pytest.MonkeyPatch, falha: Any) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(saude, "TIMEOUT_VERIFICACAO_S", 0.05)
    amb: Ambiente = await amb_fabrica(readiness=[_banco_ok, falha])
    resposta = await amb.cliente.get("/ready")
    erro = assert_erro(resposta, 503, "NAO_PRONTO")
    assert "10.0.0" not in erro["error"]
    assert "banco" not in erro["error"]


async def test_ready_degradado_quando_so_uma_dependencia_dispensavel_falha(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    amb: Ambiente = await amb_fabrica(readiness=[_banco_ok], degradacao=[_redis_fora])
    data = assert_ok(await amb.cliente.get("/ready"), 200, ProntidaoSaida)
    assert data["status"] == "degradado"
    assert data["verificacoes"]["banco"] is True and False in data["verificacoes"].values()


# --- CORS, OpenAPI, schemas ------------------------------------------------------------------------


async def test_cors_quando_configurado(amb_fabrica, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, jwt_secret=SEGREDO, cors_origins=["http://localhost:5173"])
    amb: Ambiente = await amb_fabrica(settings=settings)
    preflight = await amb.cliente.options(
        "/atendimento/tickets",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    permitidos = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= permitidos
    negado = await amb.cliente.get("/auth/me", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in negado.headers


async def test_sem_cors_por_padrao(amb: Ambiente) -> None:
    resposta = await amb.cliente.get("/health", headers={"Origin": "http://localhost:5173"})
    assert "access-control-allow-origin" not in resposta.headers


async def test_openapi_e_docs(amb: Ambiente) -> None:
    documento = (await amb.cliente.get("/openapi.json")).json()
    caminhos = set(documento["paths"])
    assert {
        "/auth/login",
        "/auth/me",
        "/atendimento/tickets",
        "/atendimento/tickets/{ticket_id}",
        "/atendimento/tickets/{ticket_id}/atribuir",
        "/atendimento/tickets/{ticket_id}/status",
        "/atendimento/tickets/{ticket_id}/mensagens",
        "/atendimento/canais/{canal_id}/mensagens",
        "/atendimento/atendentes",
        "/notificacoes",
        "/health",
        "/ready",
    } <= caminhos
    assert "HTTPBearer" in documento["components"]["securitySchemes"]
    esquemas = documento["components"]["schemas"]
    assert {"clienteId", "canalId", "filaId", "atendenteId"} <= set(esquemas["TicketCriar"]["properties"])
    assert esquemas["TicketCriar"]["properties"]["assunto"]["anyOf"][0]["maxLength"] == 200
    assert {"criadoEm", "atualizadoEm", "empresaId"} <= set(esquemas["TicketSaida"]["properties"])
    assert set(esquemas["RespostaErro"]["properties"]) == {"success", "error", "code"}
    docs = await amb.cliente.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_literais_iguais_aos_do_dominio() -> None:
    from typing import get_args

    assert get_args(StatusTicket) == STATUS_TICKET
    assert get_args(Prioridade) == PRIORIDADES
    assert get_args(TipoMensagem) == TIPOS_MENSAGEM
