"""The ``Idempotency-Key`` header of the POSTs that create (a ticket, a message).

The key is checked here (1 to 200 printable ASCII characters, else 422) and handed to the domain,
which holds it in the write's own transaction (``domain/idempotencia.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from atendimento.domain.idempotencia import MAX_CHAVE, Idempotencia, validar_chave
from atendimento.identity.tokens import Identidade

ChaveIdempotencia = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_CHAVE,
        pattern=r"^[ -~]+$",
        description=(
            f"opcional, até {MAX_CHAVE} caracteres ASCII: repetir a requisição com a mesma chave "
            "(mesmo usuário, 24 h) devolve a primeira resposta sem gravar nem publicar de novo; "
            "a mesma chave com outro corpo é 409 IDEMPOTENCIA_CONFLITO"
        ),
    ),
]


def idempotencia(identidade: Identidade, chave: str | None) -> Idempotencia | None:
    if chave is None:
        return None
    return Idempotencia(usuario_id=identidade.usuario_id, chave=validar_chave(chave))
