"""Handshake authentication: which token a connection presents, and whether it is accepted.

Order of the contract: the handshake's ``auth.token`` (preferred), then an ``Authorization: Bearer``
header. A token in the query string is refused outright, even next to a good ``auth.token``: URLs end
up in proxy and access logs, so such a token must be treated as leaked, and accepting it would teach
clients to keep sending it. It is only recognised, never verified or logged.

A refusal is ``ConnectionRefused("Unauthorized", {"code": ...})``, which the engine turns into a
CONNECT_ERROR before any room is joined or any handler runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from atendimento.domain.codigos import Codigo
from atendimento.engine import ConnectionRefused
from atendimento.identity.tokens import CodigoToken, Identidade, ServicoTokens, TokenErro, extrair_bearer

log = logging.getLogger(__name__)

UNAUTHORIZED = "Unauthorized"

# Query parameters that carry a credential by convention. socket.io-client's own (EIO, transport, t,
# sid) never match.
_PARAMETROS_DE_TOKEN = frozenset(
    {"token", "access_token", "accesstoken", "auth", "auth_token", "authorization", "bearer", "jwt"}
)
# A JWT under any other name: three base64url segments, the header starting with '{"' (eyJ).
_PARECE_JWT = re.compile(r"(?:[Bb]earer\s+)?eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


class CredencialRecusada(Exception):
    def __init__(self, code: CodigoToken, motivo: str) -> None:
        super().__init__(motivo)
        self.code: CodigoToken = code
        self.motivo = motivo


def _valores(valor: object) -> list[str]:
    if isinstance(valor, str):
        return [valor]
    if isinstance(valor, list | tuple):
        return [v for v in valor if isinstance(v, str)]
    return []


def token_na_query(query: Mapping[str, object]) -> bool:
    for nome, valor in query.items():
        if nome.lower() in _PARAMETROS_DE_TOKEN:
            return True
        if any(_PARECE_JWT.fullmatch(v.strip()) for v in _valores(valor)):
            return True
    return False


def extrair_token(auth: object, headers: Mapping[str, str], query: Mapping[str, object]) -> object:
    """The credential the client presented (any JSON value from ``auth.token``), or None.

    Raises CredencialRecusada when the query string carries a token. The value is not checked here:
    ``ServicoTokens.verificar`` does that, the same way as for the REST API.
    """
    if token_na_query(query):
        raise CredencialRecusada(Codigo.TOKEN_INVALIDO, "token in the query string")
    if isinstance(auth, Mapping) and auth.get("token") is not None:
        token = auth["token"]
        # Some front ends put the header form in auth.token; accept it rather than fail obscurely.
        if isinstance(token, str) and token[:7].lower() == "bearer ":
            return token[7:].strip()
        return token
    authorization = headers.get("authorization")
    if authorization is not None:
        token = extrair_bearer(authorization)
        if token is None:
            raise CredencialRecusada(Codigo.TOKEN_INVALIDO, "authorization header is not a bearer token")
        return token
    return None


def autenticar(
    tokens: ServicoTokens, auth: object, headers: Mapping[str, str], query: Mapping[str, object]
) -> Identidade:
    """The connection's identity, or ConnectionRefused with the contract's ``data.code``."""
    try:
        token = extrair_token(auth, headers, query)
        return tokens.verificar(token)  # type: ignore[arg-type]  # verificar checks the type itself
    except (CredencialRecusada, TokenErro) as exc:
        log.info("handshake refused: %s (%s)", exc.code, exc.motivo)
        raise ConnectionRefused(UNAUTHORIZED, {"code": exc.code}) from None
