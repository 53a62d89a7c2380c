"""Domain errors: a stable ``code`` for clients (acks, REST), a Portuguese ``message``, an HTTP status.

The API and the gateway map these one to one: ``{success: false, error: message, code: code}``.
"""

from __future__ import annotations

from atendimento.domain.codigos import Codigo


class ErroDominio(Exception):
    http_status: int = 400
    code_padrao: Codigo = Codigo.ERRO

    def __init__(self, message: str, code: Codigo | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code_padrao

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class NaoEncontrado(ErroDominio):
    """Missing in the caller's tenant. Another tenant's id gives the very same error."""

    http_status = 404
    code_padrao = Codigo.NAO_ENCONTRADO


class TransicaoInvalida(ErroDominio):
    """The ticket's state does not allow it (status transition, change on a closed ticket)."""

    http_status = 409
    code_padrao = Codigo.TRANSICAO_INVALIDA


class DadosInvalidos(ErroDominio):
    http_status = 422
    code_padrao = Codigo.PAYLOAD_INVALIDO


class CursorInvalido(DadosInvalidos):
    """A page cursor that is not one this list handed out (forged, truncated, of another list)."""

    code_padrao = Codigo.CURSOR_INVALIDO


class UsuarioInvalido(ErroDominio):
    """The token's user does not exist in the token's tenant, is inactive, or has another role than
    the token claims: the database, not the token, is the authority on who may write, and on who
    may connect (401 on REST; a CONNECT_ERROR with this code on sockets)."""

    http_status = 401
    code_padrao = Codigo.USUARIO_INVALIDO

    def __init__(
        self, message: str = "Usuário inválido, inativo ou com outro papel", code: Codigo | None = None
    ) -> None:
        super().__init__(message, code)


class Proibido(ErroDominio):
    http_status = 403
    code_padrao = Codigo.PROIBIDO


def ticket_nao_encontrado() -> NaoEncontrado:
    return NaoEncontrado("Ticket não encontrado", Codigo.TICKET_NAO_ENCONTRADO)


def usuario_nao_encontrado() -> NaoEncontrado:
    return NaoEncontrado("Usuário não encontrado", Codigo.USUARIO_NAO_ENCONTRADO)


def canal_nao_encontrado() -> NaoEncontrado:
    return NaoEncontrado("Canal não encontrado", Codigo.CANAL_NAO_ENCONTRADO)


def fila_nao_encontrada() -> NaoEncontrado:
    return NaoEncontrado("Fila não encontrada", Codigo.FILA_NAO_ENCONTRADA)


def cliente_nao_encontrado() -> NaoEncontrado:
    return NaoEncontrado("Cliente não encontrado", Codigo.CLIENTE_NAO_ENCONTRADO)


class ConflitoExterno(ErroDominio):
    """An id already taken (the provider's ``externoId`` of another message of the channel)."""

    http_status = 409
    code_padrao = Codigo.EXTERNO_ID_CONFLITO


class Conflito(ErroDominio):
    """The write would duplicate what must be unique (an e-mail in use, a fila's name), or names a
    user whose role does not fit (a ticket assigned to someone who is not an atendente): the request
    is well formed, the data it meets says no."""

    http_status = 409
    code_padrao = Codigo.CONFLITO
