"""What this instance knows of its users' records (role, ativo, nome, canal_ids), for the check that
runs on every REST call and socket connection: a warm entry costs no database round trip.

Correctness comes from invalidation, not from the TTL: every change of a user goes through the
domain's ``usuario_alterado`` publication, which drops the entry on every instance (through Redis
when there are several; docs/roles.md). The TTL (``ATENDIMENTO_USUARIOS_CACHE_SECONDS``) is the
safety net for an invalidation that never arrived (Redis away at that moment).

A read that started before an invalidation must not put its stale answer back afterwards: each
``esquecer`` moves a generation on, and ``guardar`` keeps a value only when the generation is still
the one its read began with.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from atendimento.domain.entidades import UsuarioDados

TTL_PADRAO_S = 30.0
TAMANHO_PADRAO = 10_000

Chave = tuple[str, str]


class CacheUsuarios:
    def __init__(
        self,
        ttl_s: float = TTL_PADRAO_S,
        tamanho: int = TAMANHO_PADRAO,
        relogio: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._tamanho = tamanho
        self._relogio = relogio
        # (empresa, usuario) -> (record or None for "no such user", valid until)
        self._entradas: OrderedDict[Chave, tuple[UsuarioDados | None, float]] = OrderedDict()
        self._geracao = 0

    @property
    def geracao(self) -> int:
        """Take it before reading the database; hand it to ``guardar``."""
        return self._geracao

    def obter(self, empresa_id: str, usuario_id: str) -> tuple[bool, UsuarioDados | None]:
        """(found, record): found False means "ask the database"."""
        chave = (empresa_id, usuario_id)
        entrada = self._entradas.get(chave)
        if entrada is None:
            return False, None
        if entrada[1] <= self._relogio():
            del self._entradas[chave]
            return False, None
        return True, entrada[0]

    def guardar(self, empresa_id: str, usuario_id: str, registro: UsuarioDados | None, geracao: int) -> None:
        if self._ttl <= 0 or geracao != self._geracao:
            return  # an invalidation came while the database was read: the answer may be stale
        chave = (empresa_id, usuario_id)
        self._entradas[chave] = (registro, self._relogio() + self._ttl)
        self._entradas.move_to_end(chave)
        while len(self._entradas) > self._tamanho:
            self._entradas.popitem(last=False)

    def esquecer(self, empresa_id: str, usuario_id: str) -> None:
        self._geracao += 1
        self._entradas.pop((empresa_id, usuario_id), None)

    def limpar(self) -> None:
        self._geracao += 1
        self._entradas.clear()
