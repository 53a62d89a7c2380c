"""The body of an event, as the contract gives it: ``{type, timestamp, data}``. Built once, at the
first attempt, and stored with it: every later attempt sends (and signs) the same bytes."""

from __future__ import annotations

import json
from typing import Any

from atendimento.domain.entidades import ClienteDados, TicketDados, iso_utc
from atendimento.domain.saida import TIPO_MENSAGEM_CRIADA
from atendimento.storage.saida_relay import Envio

# The contract's bound on a body; a bigger one is given up at once (it would never be accepted).
MAX_CORPO = 256 * 1024


def _ticket(t: TicketDados) -> dict[str, Any]:
    return {
        "id": t.id,
        "numero": t.numero,
        "status": t.status,
        "clienteId": t.cliente_id,
        "canalId": t.canal_id,
    }


def _cliente(c: ClienteDados | None) -> dict[str, Any] | None:
    return None if c is None else {"id": c.id, "nome": c.nome, "contato": c.contato}


def montar(envio: Envio) -> str | None:
    """The body's JSON text; None when what it tells of is gone (a message or ticket deleted)."""
    if envio.corpo is not None:
        return envio.corpo
    if envio.ticket is None:
        return None
    dados: dict[str, Any] = {"ticket": _ticket(envio.ticket), "cliente": _cliente(envio.cliente)}
    if envio.tipo == TIPO_MENSAGEM_CRIADA:
        if envio.mensagem is None:
            return None
        dados["mensagem"] = envio.mensagem.para_evento()
    else:
        extra = envio.dados or {}
        dados["status"] = extra.get("status", envio.ticket.status)
        dados["statusAnterior"] = extra.get("statusAnterior")
    evento = {"type": envio.tipo, "timestamp": iso_utc(envio.criado_em), "data": dados}
    return json.dumps(evento, ensure_ascii=False, separators=(",", ":"))
