"""What the gateway keeps on a socket: the identity its handshake proved, and nothing a client sent."""

from __future__ import annotations

from atendimento.engine import Socket
from atendimento.identity.tokens import Identidade

_CHAVE = "atendimento.identidade"


def guardar(socket: Socket, identidade: Identidade) -> None:
    socket.data[_CHAVE] = identidade


def identidade(socket: Socket) -> Identidade | None:
    """None only for a socket whose handshake was refused (no handler ever runs for it).

    A session recovered on another instance brings its data as JSON (cluster/recuperacao.py): the
    identity is then a dict, rebuilt here (the connect handler compares it with the new token's, and
    replaces it).
    """
    valor = socket.data.get(_CHAVE)
    if isinstance(valor, Identidade):
        return valor
    if isinstance(valor, dict):
        try:
            quem = Identidade(**valor)
        except TypeError:
            return None
        campos = (quem.usuario_id, quem.empresa_id, quem.role, quem.nome)
        if all(isinstance(c, str) for c in campos) and isinstance(quem.exp, int):
            socket.data[_CHAVE] = quem
            return quem
    return None
