"""Every code a client can be answered with, in one place: REST errors, socket acks, CONNECT_ERRORs.

A front end branches on these (``{success: false, error, code}``), so they are part of the contract:
a code is added here or nowhere, and the type checker refuses a bare string where a ``Codigo`` is
expected. The messages that go with them are Portuguese and written where the refusal is decided.
"""

from __future__ import annotations

from enum import StrEnum


class Codigo(StrEnum):
    # Input
    PAYLOAD_INVALIDO = "PAYLOAD_INVALIDO"  # a body, payload or parameter the contract does not admit
    CURSOR_INVALIDO = "CURSOR_INVALIDO"  # a page cursor this list did not hand out
    EVENTO_DESCONHECIDO = "EVENTO_DESCONHECIDO"  # a client event the contract does not name
    IDEMPOTENCIA_CONFLITO = "IDEMPOTENCIA_CONFLITO"  # an Idempotency-Key reused for another request
    # Identity
    TOKEN_AUSENTE = "TOKEN_AUSENTE"
    TOKEN_INVALIDO = "TOKEN_INVALIDO"
    TOKEN_EXPIRADO = "TOKEN_EXPIRADO"
    SESSAO_EXPIRADA = "SESSAO_EXPIRADA"  # past the maximum session age: renewing is over, log in again
    CREDENCIAIS_INVALIDAS = "CREDENCIAIS_INVALIDAS"  # login: e-mail or password wrong (never which)
    LOGIN_INDISPONIVEL = "LOGIN_INDISPONIVEL"  # tokens come from an external issuer here
    USUARIO_INVALIDO = "USUARIO_INVALIDO"  # the token's user is absent, inactive, or of another role
    NAO_AUTENTICADO = "NAO_AUTENTICADO"
    # Permission and state
    PROIBIDO = "PROIBIDO"  # the caller's role (or binding) may not do this
    TRANSICAO_INVALIDA = "TRANSICAO_INVALIDA"  # a status change the state machine does not allow
    TICKET_FECHADO = "TICKET_FECHADO"  # `fechado` is final
    FORA_DO_TICKET = "FORA_DO_TICKET"  # mensagem:digitando from a socket not in the ticket's room
    USUARIO_NAO_E_ATENDENTE = "USUARIO_NAO_E_ATENDENTE"
    CONFLITO = "CONFLITO"  # a write that would duplicate what must be unique
    EMAIL_EM_USO = "EMAIL_EM_USO"  # provisioning: the e-mail belongs to a user already (in any tenant)
    FILA_JA_EXISTE = "FILA_JA_EXISTE"  # provisioning: the tenant has a fila of that name
    # Not found (another tenant's id answers exactly like an unknown one)
    NAO_ENCONTRADO = "NAO_ENCONTRADO"
    TICKET_NAO_ENCONTRADO = "TICKET_NAO_ENCONTRADO"
    USUARIO_NAO_ENCONTRADO = "USUARIO_NAO_ENCONTRADO"
    CANAL_NAO_ENCONTRADO = "CANAL_NAO_ENCONTRADO"
    FILA_NAO_ENCONTRADA = "FILA_NAO_ENCONTRADA"
    CLIENTE_NAO_ENCONTRADO = "CLIENTE_NAO_ENCONTRADO"
    ROTA_NAO_ENCONTRADA = "ROTA_NAO_ENCONTRADA"
    # Channels out (docs/channels.md)
    WEBHOOK_NAO_ENCONTRADO = "WEBHOOK_NAO_ENCONTRADO"  # the channel has no webhook endpoint
    ENTREGA_NAO_ENCONTRADA = "ENTREGA_NAO_ENCONTRADA"
    MENSAGEM_NAO_ENCONTRADA = "MENSAGEM_NAO_ENCONTRADA"  # no such message (of this channel; on this ticket)
    URL_INVALIDA = "URL_INVALIDA"  # a webhook URL that is not https (or http to an allowed host)
    EXTERNO_ID_CONFLITO = "EXTERNO_ID_CONFLITO"  # the provider's id already given, or another one
    METODO_NAO_PERMITIDO = "METODO_NAO_PERMITIDO"
    # Load and failures
    LIMITE_EXCEDIDO = "LIMITE_EXCEDIDO"  # a rate limit; the answer says when to retry
    SOBRECARGA = "SOBRECARGA"  # too many requests in flight here; retry after the Retry-After
    NAO_PRONTO = "NAO_PRONTO"  # /ready: a dependency this instance needs is away
    ERRO_HTTP = "ERRO_HTTP"  # another HTTP refusal of the framework's
    ERRO_INTERNO = "ERRO_INTERNO"  # something failed on our side; details go to the log only
    ERRO = "ERRO"  # a domain error that names no code of its own (never expected on the wire)
