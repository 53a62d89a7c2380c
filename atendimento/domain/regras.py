"""Rules with no I/O: the ticket status state machine and payload validation with size limits.

Every validator raises ``DadosInvalidos`` (code ``PAYLOAD_INVALIDO``) and returns the clean value,
so the gateway and the API can share them and answer the same way.
"""

from __future__ import annotations

import json
from typing import Any

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    DISTRIBUICOES,
    PRIORIDADES,
    ROLES_PROVISIONAVEIS,
    STATUS_ATENDENTE,
    STATUS_TICKET,
    TIPOS_CANAL,
    TIPOS_MENSAGEM,
    TicketDados,
)
from atendimento.domain.erros import DadosInvalidos, TransicaoInvalida

MAX_ID = 64
MAX_CONTEUDO = 10_000
MAX_ASSUNTO = 200
MAX_DESCRICAO = 5_000
MAX_METADADOS_BYTES = 16 * 1024
MAX_NOME = 200
MAX_CONTATO = 200
MAX_TIPO_NOTIFICACAO = 64
MAX_MENSAGEM_NOTIFICACAO = 2_000
MAX_EMAIL = 254
MAX_SENHA = 1_024  # argon2 takes any length; the bound only stops a multi-megabyte "password"
MIN_SENHA = 10
MAX_CAPACIDADE = 1_000
MAX_FILAS_POR_USUARIO = 100
# Pages of a list (contract, "Catching up over REST").
LIMITE_PAGINA_PADRAO = 50
LIMITE_PAGINA_MAX = 200

# From → allowed targets. ``fechado`` is final. ``resolvido`` can be reopened (the customer answered
# after all) or closed. A ticket can go back to ``aberto`` (back to the queue) from any working state.
TRANSICOES: dict[str, frozenset[str]] = {
    "aberto": frozenset({"em_atendimento", "aguardando_cliente", "resolvido", "fechado"}),
    "em_atendimento": frozenset({"aberto", "aguardando_cliente", "resolvido", "fechado"}),
    "aguardando_cliente": frozenset({"aberto", "em_atendimento", "resolvido", "fechado"}),
    "resolvido": frozenset({"aberto", "em_atendimento", "fechado"}),
    "fechado": frozenset(),
}


def transicao_permitida(atual: str, novo: str) -> bool:
    return novo in TRANSICOES.get(atual, frozenset())


def exigir_transicao(atual: str, novo: str) -> None:
    """Raise ``TransicaoInvalida`` (409) unless ``atual → novo`` is an edge; staying put is not one."""
    if not transicao_permitida(atual, novo):
        raise TransicaoInvalida(f"Transição de status inválida: {atual} → {novo}", Codigo.TRANSICAO_INVALIDA)


# The final status: a ticket in it takes no message and no change (storage's one-statement message
# write is given this value, so the rule has one home).
STATUS_FECHADO = "fechado"


def exigir_ticket_nao_fechado(status: str) -> None:
    if status == STATUS_FECHADO:
        raise TransicaoInvalida("Ticket fechado não pode ser alterado", Codigo.TICKET_FECHADO)


def _invalido(campo: str, motivo: str) -> DadosInvalidos:
    return DadosInvalidos(f"Campo {campo} inválido: {motivo}", Codigo.PAYLOAD_INVALIDO)


def validar_id(valor: object, campo: str = "id") -> str:
    if not isinstance(valor, str) or not valor or len(valor) > MAX_ID or "\x00" in valor:
        raise _invalido(campo, f"texto de 1 a {MAX_ID} caracteres")
    return valor


def validar_id_opcional(valor: object, campo: str) -> str | None:
    return None if valor is None else validar_id(valor, campo)


def validar_texto(valor: object, campo: str, maximo: int, *, obrigatorio: bool = True) -> str:
    if not isinstance(valor, str):
        raise _invalido(campo, "deve ser texto")
    if obrigatorio and not valor.strip():
        raise _invalido(campo, "não pode ser vazio")
    if len(valor) > maximo:
        raise _invalido(campo, f"máximo de {maximo} caracteres")
    if "\x00" in valor:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail inside the transaction.
        raise _invalido(campo, "caractere nulo")
    return valor


def validar_texto_opcional(valor: object, campo: str, maximo: int) -> str | None:
    return None if valor is None else validar_texto(valor, campo, maximo, obrigatorio=False)


def _um_de(valor: object, campo: str, opcoes: tuple[str, ...]) -> str:
    if not isinstance(valor, str) or valor not in opcoes:
        raise _invalido(campo, f"um de {', '.join(opcoes)}")
    return valor


def validar_status(valor: object) -> str:
    return _um_de(valor, "status", STATUS_TICKET)


def validar_prioridade(valor: object) -> str:
    return _um_de(valor, "prioridade", PRIORIDADES)


def validar_tipo_mensagem(valor: object) -> str:
    return _um_de(valor, "tipo", TIPOS_MENSAGEM)


def validar_status_atendente(valor: object) -> str:
    return _um_de(valor, "status", STATUS_ATENDENTE)


def validar_conteudo(valor: object) -> str:
    return validar_texto(valor, "conteudo", MAX_CONTEUDO)


def validar_assunto(valor: object) -> str | None:
    return validar_texto_opcional(valor, "assunto", MAX_ASSUNTO)


def validar_descricao(valor: object) -> str | None:
    return validar_texto_opcional(valor, "descricao", MAX_DESCRICAO)


def tamanho_json(valor: object) -> int:
    """Bytes of the compact UTF-8 JSON text; raises DadosInvalidos when not JSON-serialisable."""
    try:
        texto = json.dumps(valor, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _invalido("metadados", "não é JSON") from exc
    if _tem_nulo(valor):
        # jsonb refuses \u0000 (PostgreSQL); same answer on every database.
        raise _invalido("metadados", "caractere nulo")
    return len(texto.encode("utf-8"))


def _tem_nulo(valor: object) -> bool:
    if isinstance(valor, str):
        return "\x00" in valor
    if isinstance(valor, dict):
        return any(_tem_nulo(k) or _tem_nulo(v) for k, v in valor.items())
    if isinstance(valor, list | tuple):
        return any(_tem_nulo(v) for v in valor)
    return False


def validar_metadados(valor: object) -> dict[str, Any] | None:
    """An object (JSON) of at most 16 KiB, or None."""
    if valor is None:
        return None
    if not isinstance(valor, dict) or not all(isinstance(chave, str) for chave in valor):
        raise _invalido("metadados", "deve ser um objeto")
    if tamanho_json(valor) > MAX_METADADOS_BYTES:
        raise _invalido("metadados", f"máximo de {MAX_METADADOS_BYTES} bytes em JSON")
    return valor


def validar_dados_notificacao(valor: object) -> object | None:
    if valor is not None and tamanho_json(valor) > MAX_METADADOS_BYTES:
        raise _invalido("dados", f"máximo de {MAX_METADADOS_BYTES} bytes em JSON")
    return valor


def normalizar_email(valor: object) -> str | None:
    """Lower-case and trimmed; None for anything that cannot be an email (login then just fails)."""
    if not isinstance(valor, str):
        return None
    email = valor.strip().lower()
    if not email or len(email) > MAX_EMAIL or "@" not in email or "\x00" in email:
        return None
    return email


def status_ao_responder_cliente(ticket: TicketDados) -> str | None:
    """The status a ticket takes when its customer writes in, or None when it stays as it is.

    A ticket ``aguardando_cliente`` was parked until the customer answered: it goes back to
    ``em_atendimento`` when someone has it, to the queue (``aberto``) when nobody does."""
    if ticket.status != "aguardando_cliente":
        return None
    return "em_atendimento" if ticket.atendente_id else "aberto"


# --- provisioning ---------------------------------------------------------------------------------


def validar_nome(valor: object, campo: str = "nome") -> str:
    return validar_texto(valor, campo, MAX_NOME).strip()


def validar_email_cadastro(valor: object) -> str:
    email = normalizar_email(valor)
    if email is None or email.count("@") != 1 or email.startswith("@") or email.endswith("@"):
        raise _invalido("email", "um endereço de e-mail, ex. ana@empresa.com")
    if any(c.isspace() for c in email):
        raise _invalido("email", "sem espaços")
    return email


def validar_senha_nova(valor: object) -> str:
    if not isinstance(valor, str) or len(valor) < MIN_SENHA:
        raise _invalido("senha", f"pelo menos {MIN_SENHA} caracteres")
    if len(valor) > MAX_SENHA or "\x00" in valor:
        raise _invalido("senha", f"no máximo {MAX_SENHA} caracteres, sem caractere nulo")
    return valor


def validar_role(valor: object) -> str:
    return _um_de(valor, "role", ROLES_PROVISIONAVEIS)


def validar_capacidade(valor: object) -> int:
    if isinstance(valor, bool) or not isinstance(valor, int) or not 0 <= valor <= MAX_CAPACIDADE:
        raise _invalido("capacidade", f"inteiro de 0 a {MAX_CAPACIDADE}")
    return valor


def validar_ids(valor: object, campo: str) -> tuple[str, ...]:
    """A list of distinct ids (order kept, repeats dropped), at most ``MAX_FILAS_POR_USUARIO``."""
    if not isinstance(valor, list | tuple):
        raise _invalido(campo, "deve ser uma lista de ids")
    if len(valor) > MAX_FILAS_POR_USUARIO:
        raise _invalido(campo, f"no máximo {MAX_FILAS_POR_USUARIO}")
    return tuple(dict.fromkeys(validar_id(v, campo) for v in valor))


def validar_distribuicao(valor: object) -> str:
    return _um_de(valor, "distribuicao", DISTRIBUICOES)


def validar_tipo_canal(valor: object) -> str:
    return _um_de(valor, "tipo", TIPOS_CANAL)


def validar_ativo(valor: object) -> bool:
    if not isinstance(valor, bool):
        raise _invalido("ativo", "true ou false")
    return valor
