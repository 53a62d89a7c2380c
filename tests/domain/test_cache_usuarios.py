"""The per-instance cache of users' records: TTL, size bound, and no stale answer after an
invalidation that came while the database was being read."""

from __future__ import annotations

from atendimento.domain.cache_usuarios import CacheUsuarios
from atendimento.domain.entidades import UsuarioDados

ANA = UsuarioDados("ana", "e", "Ana", "ana@x", "atendente", None)


class Relogio:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_guarda_ate_o_ttl() -> None:
    relogio = Relogio()
    cache = CacheUsuarios(ttl_s=30, relogio=relogio)
    assert cache.obter("e", "ana") == (False, None)
    cache.guardar("e", "ana", ANA, cache.geracao)
    assert cache.obter("e", "ana") == (True, ANA)
    cache.guardar("e", "fantasma", None, cache.geracao)  # "no such user" is cached too
    assert cache.obter("e", "fantasma") == (True, None)
    relogio.t = 30.0
    assert cache.obter("e", "ana") == (False, None)


def test_esquecer_e_leitura_antiga() -> None:
    cache = CacheUsuarios()
    cache.guardar("e", "ana", ANA, cache.geracao)
    geracao = cache.geracao  # a read of the database starts here...
    cache.esquecer("e", "ana")  # ...the user changes meanwhile...
    cache.guardar("e", "ana", ANA, geracao)  # ...and the old answer is not kept
    assert cache.obter("e", "ana") == (False, None)


def test_tamanho_limitado() -> None:
    cache = CacheUsuarios(tamanho=2)
    for usuario in ("a", "b", "c"):
        cache.guardar("e", usuario, None, cache.geracao)
    assert cache.obter("e", "a") == (False, None)
    assert cache.obter("e", "c") == (True, None)


def test_ttl_zero_nao_guarda() -> None:
    cache = CacheUsuarios(ttl_s=0)
    cache.guardar("e", "ana", ANA, cache.geracao)
    assert cache.obter("e", "ana") == (False, None)
