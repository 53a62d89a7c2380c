"""Rules with no I/O: the status state machine, validators and their limits, event payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from atendimento.domain import regras
from atendimento.domain.entidades import (
    PRIORIDADES,
    ROLES_INTERNOS,
    STATUS_ATENDENTE,
    STATUS_TICKET,
    TIPOS_MENSAGEM,
    MensagemDados,
    TicketDados,
    UsuarioDados,
    agora,
    iso_utc,
)
from atendimento.domain.erros import DadosInvalidos, ErroDominio, NaoEncontrado, Proibido, TransicaoInvalida

ISO_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def test_constantes_do_contrato() -> None:
    assert STATUS_TICKET == ("aberto", "em_atendimento", "aguardando_cliente", "resolvido", "fechado")
    assert PRIORIDADES == ("baixa", "media", "alta", "urgente")
    assert TIPOS_MENSAGEM == ("texto", "imagem", "audio", "video", "arquivo")
    assert STATUS_ATENDENTE == ("online", "ocupado", "ausente", "offline")
    assert {"admin", "gestor", "supervisor", "atendente"} == ROLES_INTERNOS


@pytest.mark.parametrize(
    ("atual", "novo", "ok"),
    [
        ("aberto", "em_atendimento", True),
        ("aberto", "aguardando_cliente", True),
        ("aberto", "resolvido", True),
        ("aberto", "fechado", True),
        ("em_atendimento", "aberto", True),
        ("em_atendimento", "aguardando_cliente", True),
        ("aguardando_cliente", "em_atendimento", True),
        ("resolvido", "aberto", True),
        ("resolvido", "fechado", True),
        ("resolvido", "aguardando_cliente", False),
        ("fechado", "aberto", False),
        ("fechado", "em_atendimento", False),
        ("aberto", "aberto", False),
        ("em_atendimento", "em_atendimento", False),
    ],
)
def test_maquina_de_status(atual: str, novo: str, ok: bool) -> None:
    assert regras.transicao_permitida(atual, novo) is ok
    if ok:
        regras.exigir_transicao(atual, novo)
    else:
        with pytest.raises(TransicaoInvalida) as erro:
            regras.exigir_transicao(atual, novo)
        assert erro.value.code == "TRANSICAO_INVALIDA" and erro.value.http_status == 409


def test_todo_status_tem_linha_na_tabela_e_fechado_e_final() -> None:
    assert set(regras.TRANSICOES) == set(STATUS_TICKET)
    assert regras.TRANSICOES["fechado"] == frozenset()
    for destinos in regras.TRANSICOES.values():
        assert destinos <= set(STATUS_TICKET)


def test_erros_tem_codigo_mensagem_e_status_http() -> None:
    casos = [
        (NaoEncontrado("x"), 404),
        (TransicaoInvalida("x"), 409),
        (DadosInvalidos("x"), 422),
        (Proibido("x"), 403),
    ]
    for erro, status in casos:
        assert isinstance(erro, ErroDominio)
        assert erro.http_status == status and erro.message == "x" and erro.code
    assert DadosInvalidos("x").code == "PAYLOAD_INVALIDO"
    assert NaoEncontrado("x", "TICKET_NAO_ENCONTRADO").code == "TICKET_NAO_ENCONTRADO"


@pytest.mark.parametrize(
    ("validador", "bom", "ruins"),
    [
        (regras.validar_id, "a" * 64, [None, 1, "", "a" * 65, ["x"], "a\x00b"]),
        (regras.validar_conteudo, "x" * 10_000, [None, "", "   ", "x" * 10_001, 5, "a\x00b"]),
        (regras.validar_assunto, "x" * 200, ["x" * 201, 3]),
        (regras.validar_descricao, "x" * 5_000, ["x" * 5_001, {}]),
        (regras.validar_status, "resolvido", ["RESOLVIDO", "novo", None]),
        (regras.validar_prioridade, "urgente", ["critica", None]),
        (regras.validar_tipo_mensagem, "arquivo", ["documento", None]),
        (regras.validar_status_atendente, "ausente", ["livre", None]),
    ],
)
def test_validadores_e_limites(validador, bom, ruins) -> None:  # type: ignore[no-untyped-def]
    assert validador(bom) == bom
    for ruim in ruins:
        with pytest.raises(DadosInvalidos) as erro:
            validador(ruim)
        assert erro.value.code == "PAYLOAD_INVALIDO"


def test_metadados_ate_16_kib_de_json() -> None:
    assert regras.validar_metadados(None) is None
    cabe = {"k": "x" * (16 * 1024 - len('{"k":""}'))}
    assert regras.tamanho_json(cabe) == 16 * 1024
    assert regras.validar_metadados(cabe) is cabe
    with pytest.raises(DadosInvalidos):
        regras.validar_metadados({"k": "x" * (16 * 1024)})
    # Multi-byte text counts in bytes, not characters.
    with pytest.raises(DadosInvalidos):
        regras.validar_metadados({"k": "ç" * 9000})
    for ruim in (["lista"], "texto", {"k": float("nan")}, {"k": object()}, {"k": ["\x00"]}, {"\x00": 1}):
        with pytest.raises(DadosInvalidos):
            regras.validar_metadados(ruim)


def test_normalizar_email() -> None:
    assert regras.normalizar_email("  Ana@Demo.LOCAL ") == "ana@demo.local"
    for ruim in (None, "", "sem-arroba", "a@" + "x" * 300, 42, "a\x00@b"):
        assert regras.normalizar_email(ruim) is None


def test_iso_utc_com_milissegundos_e_z() -> None:
    momento = datetime(2026, 11, 29, 17, 8, 20, 123456, tzinfo=UTC)
    assert iso_utc(momento) == "2026-11-29T17:08:20.123Z"
    sao_paulo = timezone(timedelta(hours=-3))
    assert iso_utc(datetime(2026, 11, 29, 14, 8, 20, 5000, tzinfo=sao_paulo)) == "2026-11-29T17:08:20.005Z"
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"  # naive = UTC
    assert agora().microsecond % 1000 == 0 and agora().tzinfo is UTC


def test_para_evento_usa_as_chaves_do_contrato() -> None:
    quando = datetime(2026, 11, 29, 17, 8, 20, 123000, tzinfo=UTC)
    ticket = TicketDados("t", "7", "e", "c", "k", "f", None, "aberto", "media", None, None, quando, quando)
    assert ticket.para_evento() == {
        "id": "t",
        "numero": "7",
        "empresaId": "e",
        "clienteId": "c",
        "canalId": "k",
        "filaId": "f",
        "atendenteId": None,
        "status": "aberto",
        "prioridade": "media",
        "assunto": None,
        "descricao": None,
        "criadoEm": "2026-11-29T17:08:20.123Z",
        "atualizadoEm": "2026-11-29T17:08:20.123Z",
    }
    mensagem = MensagemDados("m", "t", "7", "r", "a", "texto", "oi", {"x": 1}, quando)
    assert mensagem.para_evento() == {
        "id": "m",
        "ticketId": "t",
        "ticketNumero": "7",
        "remetenteId": "r",
        "atendenteId": "a",
        "tipo": "texto",
        "conteudo": "oi",
        "metadados": {"x": 1},
        "criadoEm": "2026-11-29T17:08:20.123Z",
        # Channels out: an agent's message is pendente until its integration reports.
        "status": "pendente",
        "externoId": None,
    }
    usuario = UsuarioDados("u", "e", "Ana", "ana@demo.local", "atendente", "online")
    assert usuario.para_evento() == {
        "id": "u",
        "empresaId": "e",
        "nome": "Ana",
        "email": "ana@demo.local",
        "role": "atendente",
        "statusAtendimento": "online",
    }
    assert usuario.interno and not UsuarioDados("v", "e", "V", "v@x", "vendedor", None).interno


def test_entidades_sao_imutaveis() -> None:
    usuario = UsuarioDados("u", "e", "Ana", "ana@demo.local", "atendente", None)
    with pytest.raises(AttributeError):
        usuario.nome = "outra"  # type: ignore[misc]
