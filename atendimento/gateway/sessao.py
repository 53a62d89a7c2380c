"""What the gateway keeps on a socket: the identity its handshake proved, and nothing a client sent."""

from __future__ import annotations

from atendimento.engine import Socket
from atendimento.identity.tokens import Identidade

_CHAVE = "atendimento.identidade"


def guardar(socket: Socket, identidade: Identidade) -> None:
    socket.data[_CHAVE] = identidade


def identidade(socket: Socket) -> Identidade | None:
    """None only for a socket whose handshake was refused (no handler ever runs for it)."""
    valor = socket.data.get(_CHAVE)
    return valor if isinstance(valor, Identidade) else None
