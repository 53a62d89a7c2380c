"""The sharded subscriptions of one instance: which channels it wants, held on the node that owns each.

``Assinaturas`` keeps the wanted channels and one ``_Ouvinte`` per node holding some of them: a plain
pub/sub connection to that node, ``SSUBSCRIBE`` sent one slot at a time (a batched ``SSUBSCRIBE``
across slots is a ``CROSSSLOT`` error on a cluster), its messages handed to ``entregar``. On one
Redis there is one node and this is one connection, exactly as before sharding.

What makes it survive a failover or a slot migration (failure modes that leave subscriptions dead
without a word): any error on a node's connection, and any ``SUNSUBSCRIBE`` we did not ask for (Redis
sends one when a slot moves away), makes the set re-read the slot map and move the affected channels
to their current owner; a node's listener retries with backoff until its channels move away or its
connection holds. Nothing is retried blindly: the listener always restarts from the wanted set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

from redis.asyncio.client import PubSub

from atendimento.cluster.topologia import ERROS_REDIS, Topologia

log = logging.getLogger(__name__)


def _texto(valor: object) -> str:
    return valor.decode() if isinstance(valor, bytes) else str(valor)


class _Ouvinte:
    """One node's pub/sub connection and the channels it holds there."""

    def __init__(self, dono: Assinaturas, no: str) -> None:
        self.dono = dono
        self.no = no
        self.canais: set[str] = set()
        self.conectado = False
        self.confirmados: set[str] = set()  # channels Redis confirmed on the current connection
        self._pubsub: PubSub | None = None
        self._saindo: set[str] = set()  # SUNSUBSCRIBEs we sent (the others are Redis moving a slot)
        self.tarefa: asyncio.Task[None] | None = None

    def iniciar(self) -> None:
        self.tarefa = asyncio.get_running_loop().create_task(self._rodar(), name=f"cluster-ouvinte-{self.no}")

    @property
    def vivo(self) -> bool:
        return self.tarefa is not None and not self.tarefa.done()

    def assinar(self, canal: str) -> None:
        self.canais.add(canal)
        self._saindo.discard(canal)
        if self._pubsub is not None and self.conectado:
            self.dono.em_fundo(self._enviar(True, canal))

    def liberar(self, canal: str, *, avisar: bool = True) -> None:
        self.canais.discard(canal)
        self.confirmados.discard(canal)
        if avisar and self._pubsub is not None and self.conectado:
            self._saindo.add(canal)
            self.dono.em_fundo(self._enviar(False, canal))

    async def _enviar(self, entrar: bool, canal: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        classico = canal in self.dono.classicos
        try:
            if canal in self.dono.padroes:
                await (pubsub.psubscribe(canal) if entrar else pubsub.punsubscribe(canal))
            elif classico:
                await (pubsub.subscribe(canal) if entrar else pubsub.unsubscribe(canal))
            else:
                await (pubsub.ssubscribe(canal) if entrar else pubsub.sunsubscribe(canal))
        except ERROS_REDIS as exc:
            # The reading loop fails on the same connection and starts over from ``canais``.
            log.info("cluster: (un)subscribing %s on %s failed: %r", canal, self.no, exc)

    async def _rodar(self) -> None:
        espera = self.dono.backoff[0]
        while self.canais and not self.dono.parando:
            try:
                await self._sessao()
            except Exception as exc:  # Redis errors, and a node not known yet ("?"): start over
                if self.dono.parando:
                    return
                self.dono.ultimo_erro = f"{type(exc).__name__}: {exc}"
                log.info("cluster: subscription on %s failed: %s", self.no, self.dono.ultimo_erro)
            if self.conectado:
                espera = self.dono.backoff[0]  # it had worked: start the backoff over
            self.conectado = False
            self.dono.mudou()
            if not self.canais or self.dono.parando:
                return
            # Maybe the node is gone (failover) or its slots moved: where do these channels live now?
            await self.dono.replanejar()
            await asyncio.sleep(random.uniform(espera / 2, espera))
            espera = min(espera * 2, self.dono.backoff[1])

    async def _sessao(self) -> None:
        pubsub = self.dono.topologia.cliente_de(self.no).pubsub()
        self._pubsub = pubsub
        self._saindo.clear()
        try:
            enviados: set[str] = set()
            while faltam := self.canais - enviados:  # channels may be added while we send
                por_slot: dict[int, list[str]] = defaultdict(list)
                classicos = sorted(faltam & self.dono.classicos)
                if classicos:
                    await pubsub.subscribe(*classicos)
                padroes = sorted(faltam & self.dono.padroes)
                if padroes:
                    await pubsub.psubscribe(*padroes)
                for canal in sorted(faltam - self.dono.classicos - self.dono.padroes):
                    por_slot[Topologia.slot(canal)].append(canal)
                for canais in por_slot.values():
                    await pubsub.ssubscribe(*canais)
                enviados |= faltam
            self.conectado = True  # no await since the last check: later ones are sent by assinar()
            self.dono.mudou()
            while self.canais or self._saindo:
                envelope = await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
                if envelope is None:
                    continue
                tipo = _texto(envelope.get("type"))
                if tipo in ("smessage", "message"):
                    self.dono.entregar(_texto(envelope["channel"]), envelope["data"])
                elif tipo == "pmessage":
                    self.dono.entregar(_texto(envelope["pattern"]), envelope["data"])
                elif tipo in ("ssubscribe", "subscribe", "psubscribe"):
                    self.confirmados.add(_texto(envelope["channel"]))
                elif tipo in ("unsubscribe", "punsubscribe"):
                    self._saindo.discard(_texto(envelope["channel"]))
                elif tipo == "sunsubscribe":
                    canal = _texto(envelope["channel"])
                    if canal in self._saindo:
                        self._saindo.discard(canal)
                    elif canal in self.canais:
                        # Not asked for: the slot moved away (migration, failover). Find its new home.
                        log.info(
                            "cluster: Redis unsubscribed %s on %s; re-reading the slot map", canal, self.no
                        )
                        self.dono.em_fundo(self.dono.replanejar())
        finally:
            self._pubsub = None
            self.confirmados.clear()
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


class Assinaturas:
    """The channels this instance wants, each subscribed on the node that owns its slot."""

    def __init__(
        self,
        topologia: Topologia,
        entregar: Callable[[str, object], None],
        mudou: Callable[[], None],
        *,
        backoff: tuple[float, float] = (0.1, 2.0),
    ) -> None:
        self.topologia = topologia
        self.entregar = entregar
        self.mudou = mudou
        self.backoff = backoff
        self.parando = True
        self.ultimo_erro: str | None = None
        self._onde: dict[str, str] = {}  # channel → node it is (being) subscribed on
        # Classic (not sharded) channels, e.g. what other services' emitters PUBLISH on: SUBSCRIBE on
        # any node of a cluster hears every PUBLISH of the cluster.
        self.classicos: set[str] = set()
        self.padroes: set[str] = set()  # PSUBSCRIBE patterns (classic channels too)
        self._ouvintes: dict[str, _Ouvinte] = {}
        self._tarefas: set[asyncio.Task[None]] = set()
        self._replanejando: asyncio.Lock | None = None

    # --- what the link calls ----------------------------------------------------------------------

    async def iniciar(self) -> None:
        self.parando = False
        try:
            await self.topologia.atualizar()
        except ERROS_REDIS as exc:
            log.info("cluster: no slot map at start (%r); the listeners retry", exc)
        for canal in self._onde:
            self._onde[canal] = self._no_de(canal)
        for no in {*self._onde.values()}:
            self._ouvinte(no)

    @property
    def assinado(self) -> bool:
        """True when every node holding a wanted channel has its subscription up."""
        ativos = [o for o in self._ouvintes.values() if o.canais]
        return bool(ativos) and all(o.conectado for o in ativos)

    def assinar(self, canal: str, *, classico: bool = False, padrao: bool = False) -> None:
        if canal in self._onde:
            return
        if classico:
            self.classicos.add(canal)
        if padrao:
            self.padroes.add(canal)
        no = self._no_de(canal)
        self._onde[canal] = no
        if not self.parando:
            self._ouvinte(no).assinar(canal)

    def liberar(self, canal: str) -> None:
        no = self._onde.pop(canal, None)
        ouvinte = self._ouvintes.get(no) if no is not None else None
        if ouvinte is not None:
            ouvinte.liberar(canal)
        self.classicos.discard(canal)
        self.padroes.discard(canal)

    def canais(self) -> set[str]:
        return set(self._onde)

    def confirmado(self, canal: str) -> bool:
        ouvinte = self._ouvintes.get(self._onde.get(canal, ""))
        return ouvinte is not None and canal in ouvinte.confirmados

    async def parar(self) -> list[asyncio.Task[None]]:
        """Stop every listener; answers their tasks for the caller to wait on."""
        self.parando = True
        tarefas = [o.tarefa for o in self._ouvintes.values() if o.tarefa is not None]
        tarefas += list(self._tarefas)
        self._ouvintes.clear()
        return tarefas

    def em_fundo(self, coro: Coroutine[Any, Any, None]) -> None:
        tarefa = asyncio.get_running_loop().create_task(coro)
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    # --- placement ---------------------------------------------------------------------------------

    def _no_de(self, canal: str) -> str:
        try:
            return self.topologia.no_de(canal)
        except Exception as exc:  # no slot map yet, slot not covered: the listener's retry places it
            log.info("cluster: no node known for %s yet (%r)", canal, exc)
            return "?"

    def _ouvinte(self, no: str) -> _Ouvinte:
        ouvinte = self._ouvintes.get(no)
        if ouvinte is None or not ouvinte.vivo:
            antigo = ouvinte
            ouvinte = self._ouvintes[no] = _Ouvinte(self, no)
            if antigo is not None:
                ouvinte.canais.update(antigo.canais)
            ouvinte.canais.update(c for c, n in self._onde.items() if n == no)
            ouvinte.iniciar()
        return ouvinte

    async def replanejar(self) -> None:
        """Re-read the slot map and move every channel whose slot is now owned by another node."""
        if self._replanejando is None:
            self._replanejando = asyncio.Lock()
        if self._replanejando.locked():
            async with self._replanejando:
                return  # someone just did it
        async with self._replanejando:
            try:
                await self.topologia.atualizar()
            except ERROS_REDIS as exc:
                log.info("cluster: slot map not refreshed: %r", exc)
                return
            if self.parando:
                return
            for canal, antigo in list(self._onde.items()):
                novo = self._no_de(canal)
                if novo == antigo:
                    continue
                self._onde[canal] = novo
                velho = self._ouvintes.get(antigo)
                if velho is not None:
                    velho.liberar(canal, avisar=velho.conectado)
                self._ouvinte(novo).assinar(canal)
            for no, ouvinte in list(self._ouvintes.items()):
                if not ouvinte.canais and not ouvinte.vivo:
                    del self._ouvintes[no]
            self.mudou()
