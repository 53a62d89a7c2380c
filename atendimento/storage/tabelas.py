"""The tables as SQLAlchemy Core handles, and rows turned into the domain's frozen dataclasses.

What every statement of storage reads and writes through (repositorio.py, banco.py); the statements
themselves live with the repository that runs them.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Row, Table

from atendimento.domain.entidades import (
    CanalDados,
    ClienteDados,
    FilaDados,
    MensagemDados,
    TicketDados,
    UsuarioDados,
)
from atendimento.storage.modelos import (
    Canal,
    CanalWebhook,
    ChaveIdempotencia,
    Cliente,
    ContadorTicket,
    Empresa,
    Fila,
    Leitura,
    Mensagem,
    MensagemExterna,
    SaidaEvento,
    SaidaTentativa,
    Ticket,
    Usuario,
    UsuarioFila,
)
from atendimento.storage.retomada import utc

# Core handles on the tables, for INSERT/UPDATE … RETURNING without the ORM's unit of work.
T_TICKETS = cast(Table, Ticket.__table__)
T_MENSAGENS = cast(Table, Mensagem.__table__)
T_CONTADORES = cast(Table, ContadorTicket.__table__)
T_CLIENTES = cast(Table, Cliente.__table__)
T_USUARIOS = cast(Table, Usuario.__table__)
T_FILAS = cast(Table, Fila.__table__)
T_CANAIS = cast(Table, Canal.__table__)
T_CHAVES = cast(Table, ChaveIdempotencia.__table__)
T_CANAL_WEBHOOKS = cast(Table, CanalWebhook.__table__)
T_SAIDA_EVENTOS = cast(Table, SaidaEvento.__table__)
T_TENTATIVAS = cast(Table, SaidaTentativa.__table__)
T_EXTERNOS = cast(Table, MensagemExterna.__table__)
T_EMPRESAS = cast(Table, Empresa.__table__)
T_USUARIO_FILAS = cast(Table, UsuarioFila.__table__)
T_LEITURAS = cast(Table, Leitura.__table__)


def usuario_dados(m: Row[Any]) -> UsuarioDados:
    return UsuarioDados(
        id=m.id,
        empresa_id=m.empresa_id,
        nome=m.nome,
        email=m.email,
        role=m.role,
        status_atendimento=m.status_atendimento,
    )


def fila_dados(m: Row[Any]) -> FilaDados:
    return FilaDados(id=m.id, empresa_id=m.empresa_id, nome=m.nome, distribuicao=m.distribuicao)


def canal_dados(m: Row[Any]) -> CanalDados:
    return CanalDados(
        id=m.id,
        empresa_id=m.empresa_id,
        nome=m.nome,
        tipo=m.tipo,
        fila_padrao_id=m.fila_padrao_id,
        ativo=bool(m.ativo),
    )


def cliente_dados(m: Row[Any]) -> ClienteDados:
    return ClienteDados(id=m.id, empresa_id=m.empresa_id, nome=m.nome, contato=m.contato)


def ticket_dados(m: Row[Any]) -> TicketDados:
    return TicketDados(
        id=m.id,
        numero=str(m.numero),
        empresa_id=m.empresa_id,
        cliente_id=m.cliente_id,
        canal_id=m.canal_id,
        fila_id=m.fila_id,
        atendente_id=m.atendente_id,
        status=m.status,
        prioridade=m.prioridade,
        assunto=m.assunto,
        descricao=m.descricao,
        criado_em=utc(m.criado_em),
        atualizado_em=utc(m.atualizado_em),
    )


def mensagem_dados(m: Row[Any], ticket_numero: str) -> MensagemDados:
    return MensagemDados(
        id=m.id,
        ticket_id=m.ticket_id,
        ticket_numero=ticket_numero,
        remetente_id=m.remetente_id,
        atendente_id=m.atendente_id,
        tipo=m.tipo,
        conteudo=m.conteudo,
        metadados=m.metadados,
        criado_em=utc(m.criado_em),
        interna=bool(m.interna),
        **_status(m),
    )


def _status(m: Row[Any]) -> dict[str, Any]:
    """Channels out: the integration's report, when the row carries it (a message just written by
    ``acrescentar_mensagem`` has had none)."""
    try:
        em = m.status_em
    except (AttributeError, KeyError):
        return {}
    return {
        "status": m.status,
        "status_em": None if em is None else utc(em),
        "status_erro": m.status_erro,
        "externo_id": m.externo_id,
    }
