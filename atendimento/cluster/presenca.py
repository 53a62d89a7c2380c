"""Cluster-wide presence: the gateway's ``RegistroPresenca`` with socket counts kept in Redis.

An atendente is online from their first socket on any instance until their last socket anywhere has
been gone for the grace period; each edge is announced once, by whichever instance's Redis script saw
it (presenca_lua.py). The announcement goes through the ``OuvintePresenca`` (the gateway's publisher),
whose ``ns.emit`` the Redis adapter shares with every instance.

Each instance keeps its own sockets in memory (the truth for its share) and writes its per-user counts
to Redis as absolute values from one task, in order, so writes can be retried and re-done wholesale:
after a Redis outage, or after survivors took the instance for dead, it writes everything again and
whatever edges that implies are announced then. While Redis is away, edges wait; nothing raises into
the gateway.

Keys are per tenant, hash-tagged by the tenant (presenca_lua.py), so each script runs on one shard of
a Redis Cluster; an instance writes each tenant it has users in with its own script call.

Timing (docs/cluster.md): a heartbeat every ``batimento_s`` (5 s) refreshes a key that lives
3 heartbeats; every instance sweeps on each heartbeat, so the users of an instance that died without a
goodbye go offline 15–20 s after its last heartbeat. A graceful ``fechar`` hands its users over at once
and they go offline after the grace period unless they reconnect elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from atendimento.cluster import metricas, presenca_lua
from atendimento.cluster.envelopes import etiqueta
from atendimento.cluster.redis_link import RedisLink, encerrar
from atendimento.cluster.topologia import ERROS_REDIS, Cliente
from atendimento.gateway.portas import Atendente, OuvintePresenca, avisar, validar_graca

log = logging.getLogger(__name__)

PREFIXO_PRESENCA = "atendimento:presenca:"
BATIMENTO_S = 5.0
VIDAS = 3  # heartbeats an instance may miss before the others take it for dead
# Timers fire a little after the grace period so the Redis clock has surely passed it too.
FOLGA_S = 0.05


@dataclass(slots=True)
class _Local:
    atendente: Atendente
    sids: set[str] = field(default_factory=set)


def _momento(ms: str | bytes) -> datetime:
    return datetime.fromtimestamp(int(float(ms)) / 1000, UTC)


def _texto(valor: object) -> str:
    return valor.decode() if isinstance(valor, bytes) else str(valor)


class _Chaves:
    """Every key name of presence (presenca_lua.py lists them)."""

    def __init__(self, prefixo: str) -> None:
        self.p = prefixo
        self.conjunto = f"{prefixo}{{instancias}}:set"
        self.vivo = f"{prefixo}{{instancias}}:vivo:"
        self.a_vencer = f"{prefixo}{{instancias}}:a_vencer"

    def empresas(self, instancia: str) -> str:
        return f"{self.p}{{instancias}}:empresas:{instancia}"

    def inst(self, empresa: str, instancia: str) -> str:
        return f"{self.p}{etiqueta(empresa)}:inst:{instancia}"

    def da_empresa(self, empresa: str, nome: str) -> str:
        return f"{self.p}{etiqueta(empresa)}:{nome}"


class PresencaCluster:
    """``RegistroPresenca`` across instances (see the module docstring)."""

    def __init__(
        self,
        link: RedisLink,
        instancia: str,
        *,
        grace_seconds: float,
        batimento_s: float = BATIMENTO_S,
        prefixo: str = PREFIXO_PRESENCA,
    ) -> None:
        self._link = link
        self._redis: Cliente = link.cliente
        self.instancia = instancia
        self._grace_ms = int(validar_graca(grace_seconds) * 1000)
        self._batimento_s = batimento_s
        self._k = _Chaves(prefixo)
        self._ouvinte: OuvintePresenca | None = None
        self._locais: dict[tuple[str, str], _Local] = {}
        self._sujos: set[tuple[str, str]] = set()
        self._escritas: set[str] = set()  # tenants this instance has written counts in
        self._registradas: set[str] = set()  # tenants in its ``empresas`` set (a sweeper reads it)
        self._vencer: set[str] = set()  # tenants whose due grace periods are to be settled
        self._completo = True  # the first write is a full one
        self._acordar = asyncio.Event()
        self._bater_agora = asyncio.Event()
        # Counts are written only while this instance is registered (after a heartbeat went through),
        # so a hash never sits in Redis without the registration the sweepers go by.
        self._registrado = False
        self._tarefas: list[asyncio.Task[None]] = []
        self._parando = False
        self._sincronizar = self._redis.register_script(presenca_lua.SINCRONIZAR)
        self._vencer_script = self._redis.register_script(presenca_lua.VENCER)
        self._varrer = self._redis.register_script(presenca_lua.VARRER)
        self._batimento = self._redis.register_script(presenca_lua.BATIMENTO)
        self._reclamar = self._redis.register_script(presenca_lua.RECLAMAR)
        self._a_vencer = self._redis.register_script(presenca_lua.A_VENCER)
        self.falhas = 0
        # The registered instances alive at the last heartbeat (``ticket:visualizando`` drops the
        # entries of the others once they are old enough: cluster/visualizando.py).
        self.vivas: frozenset[str] = frozenset({instancia})
        link.ao_mudar_disponibilidade(self._disponibilidade)

    @property
    def vida_ms(self) -> int:
        return int(self._batimento_s * VIDAS * 1000)

    # --- RegistroPresenca ---------------------------------------------------------------------------

    def ouvir(self, ouvinte: OuvintePresenca) -> None:
        self._ouvinte = ouvinte

    async def conectou(self, atendente: Atendente, sid: str) -> None:
        chave = (atendente.empresa_id, atendente.usuario_id)
        local = self._locais.get(chave)
        if local is None:
            local = self._locais[chave] = _Local(atendente)
        local.atendente = atendente  # the newest name wins
        if sid not in local.sids:
            local.sids.add(sid)
            self._marcar(chave)

    async def desconectou(self, atendente: Atendente, sid: str) -> None:
        chave = (atendente.empresa_id, atendente.usuario_id)
        local = self._locais.get(chave)
        if local is None or sid not in local.sids:
            return  # a repeated or unknown leave changes nothing
        local.sids.discard(sid)
        self._marcar(chave)

    async def online(self, empresa_id: str) -> set[str]:
        """The tenant's announced atendentes; while Redis is away, those with a socket here."""
        if self._link.disponivel:
            try:
                ids = await self._redis.hkeys(self._k.da_empresa(empresa_id, "online"))
                return {_texto(i) for i in ids}
            except ERROS_REDIS as exc:
                log.warning("presence: online(%s) from local sockets only: %s", empresa_id, exc)
        return {u for (e, u), local in self._locais.items() if e == empresa_id and local.sids}

    async def fechar(self) -> None:
        """Stop, and hand this instance's users over: with Redis up they go through the grace period
        now (and go offline unless they reconnect elsewhere); with Redis down the others sweep later."""
        if self._parando:
            return  # the gateway and the cluster may both close it
        tarefas, self._tarefas = self._tarefas, []
        self._parando = True
        await encerrar(tarefas)
        with contextlib.suppress(*ERROS_REDIS):
            devidas: dict[str, float] = {}
            for empresa in sorted(self._escritas):
                for tipo, _, _, _, ms in self._tuplas(await self._escrever_empresa(empresa, [], True)):
                    if tipo == "zero":
                        devidas[empresa] = max(devidas.get(empresa, 0), float(ms) + self._grace_ms + 50)
            if devidas:
                # Whoever beats next after the grace settles them (our timers die with us).
                await self._redis.zadd(self._k.a_vencer, devidas)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.srem(self._k.conjunto, self.instancia)
                pipe.delete(f"{self._k.vivo}{self.instancia}")
                pipe.delete(self._k.empresas(self.instancia))
                await pipe.execute()
        self._locais.clear()

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tarefas:
            return
        self._parando = False
        self._tarefas = [
            asyncio.create_task(self._escrever(), name="presenca-escritor"),
            asyncio.create_task(self._batimentos(), name="presenca-batimento"),
        ]

    def _disponibilidade(self, disponivel: bool) -> None:
        # Anything may have happened while we could not see Redis (even our being swept): once it is
        # back, beat first, then write everything again.
        self._registrado = False
        if disponivel:
            self._bater_agora.set()

    def _marcar(self, chave: tuple[str, str]) -> None:
        self._sujos.add(chave)
        self._acordar.set()

    # --- the writer: the only task that writes this instance's counts ---------------------------------

    async def _escrever(self) -> None:
        while not self._parando:
            await self._acordar.wait()
            self._acordar.clear()
            if not (self._link.disponivel and self._registrado):
                continue  # the next successful heartbeat wakes us with a full write
            try:
                await self._uma_escrita()
            except ERROS_REDIS as exc:
                if self._parando:
                    return
                self.falhas += 1
                metricas.PRESENCA_FALHAS.inc()
                log.warning("presence: Redis write failed, rewriting all when possible: %s", exc)
                await self._reescrever_tudo()
            except Exception:
                log.exception("presence: unexpected failure; rewriting all")
                await self._reescrever_tudo()

    async def _reescrever_tudo(self) -> None:
        """After a failed write: a full write, after a pause so a failing Redis is not hammered."""
        self._completo = True
        await asyncio.sleep(self._batimento_s / 5)
        self._acordar.set()

    async def _uma_escrita(self) -> None:
        completo = self._completo
        if completo or self._sujos:
            chaves = list(self._locais) if completo else list(self._sujos)
            self._completo = False
            self._sujos.clear()
            por_empresa: dict[str, list[str | int]] = {e: [] for e in self._escritas} if completo else {}
            for chave in chaves:
                local = self._locais.get(chave)
                if local is not None:
                    a = local.atendente
                    por_empresa.setdefault(a.empresa_id, []).extend([a.usuario_id, a.nome, len(local.sids)])
            try:
                novas = sorted(set(por_empresa) - self._registradas)
                if novas:
                    await self._redis.sadd(self._k.empresas(self.instancia), *novas)
                    self._registradas.update(novas)
                for empresa, usuarios in por_empresa.items():
                    self._escritas.add(empresa)
                    self._avisar(await self._escrever_empresa(empresa, usuarios, completo))
            except BaseException:
                # Not all written: these users are still to be written (a full write covers them all).
                self._sujos.update(chaves)
                raise
            self._esquecer_vazios(chaves)
        while self._vencer:
            empresa = self._vencer.pop()
            try:
                self._avisar(await self._vencer_empresa(empresa))
            except BaseException:
                self._vencer.add(empresa)
                raise

    async def _escrever_empresa(
        self, empresa: str, usuarios: list[str | int], completo: bool
    ) -> list[object]:
        chaves = [self._k.inst(empresa, self.instancia)] + [
            self._k.da_empresa(empresa, n) for n in ("total", "online", "pendentes")
        ]
        resultado = await self._sincronizar(keys=chaves, args=[empresa, "1" if completo else "0", *usuarios])
        return list(resultado)

    async def _vencer_empresa(self, empresa: str) -> list[object]:
        chaves = [self._k.da_empresa(empresa, n) for n in ("total", "online", "pendentes")]
        return list(await self._vencer_script(keys=chaves, args=[empresa, self._grace_ms]))

    def _esquecer_vazios(self, chaves: list[tuple[str, str]]) -> None:
        for chave in chaves:
            local = self._locais.get(chave)
            if local is not None and not local.sids and chave not in self._sujos:
                del self._locais[chave]

    @staticmethod
    def _tuplas(resultado: list[object]) -> list[tuple[str, str, str, str, str]]:
        valores = [_texto(v) for v in resultado]
        return [
            (valores[i], valores[i + 1], valores[i + 2], valores[i + 3], valores[i + 4])
            for i in range(0, len(valores) - 4, 5)
        ]

    def _avisar(self, resultado: list[object]) -> None:
        for tipo, empresa_id, usuario_id, nome, ms in self._tuplas(resultado):
            if tipo == "zero":
                # Not tracked: after fechar() the callback only sets a flag nobody reads.
                asyncio.get_running_loop().call_later(
                    self._grace_ms / 1000 + FOLGA_S, self._pedir_vencer, empresa_id
                )
                continue
            if tipo in ("on", "off"):
                avisar(self._ouvinte, tipo == "on", Atendente(empresa_id, usuario_id, nome), _momento(ms))

    def _pedir_vencer(self, empresa: str) -> None:
        self._vencer.add(empresa)
        self._acordar.set()

    # --- heartbeat and sweep ------------------------------------------------------------------------

    async def _batimentos(self) -> None:
        while not self._parando:
            self._bater_agora.clear()
            if self._link.disponivel:
                try:
                    await self._bater_e_varrer()
                except ERROS_REDIS as exc:
                    log.warning("presence: heartbeat failed: %s", exc)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose the cancellation of stop().
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._batimento_s):
                    await self._bater_agora.wait()

    async def _bater_e_varrer(self) -> None:
        k = self._k
        novo, *outras = await self._batimento(
            keys=[k.conjunto, f"{k.vivo}{self.instancia}"], args=[self.instancia, self.vida_ms, k.vivo]
        )
        estados = {_texto(outras[i]): outras[i + 1] == 1 for i in range(0, len(outras) - 1, 2)}
        self.vivas = frozenset(i for i, viva in estados.items() if viva) | {self.instancia}
        mortas = [i for i, viva in estados.items() if not viva]
        if novo == 1 or not self._registrado:
            self._completo = True  # new, back, or swept while cut off: write everything again
            self._registradas.clear()
            self._registrado = True
        for morta in mortas:
            empresas = await self._reclamar(
                keys=[k.conjunto, f"{k.vivo}{morta}", k.empresas(morta)], args=[morta]
            )
            usuarios = 0
            for empresa in map(_texto, empresas):
                usuarios += int(
                    await self._varrer(
                        keys=[
                            k.inst(empresa, morta),
                            k.da_empresa(empresa, "total"),
                            k.da_empresa(empresa, "pendentes"),
                        ],
                        args=[self._grace_ms],
                    )
                )
                self._vencer.add(empresa)  # its users, and the grace periods its timers would have ended
            if empresas:
                log.info("presence: instance %s is gone; its %s users handed over", morta, usuarios)
        # Grace periods a stopped instance left running, due now: settled once, by whoever takes them.
        self._vencer.update(map(_texto, await self._a_vencer(keys=[k.a_vencer])))
        if self._vencer or self._completo:
            self._acordar.set()
