"""The instance's Redis links: sharded subscriptions it listens on, and a queue it publishes from.

Redis is the broker; this is only its client side, built so that Redis going away never reaches the
sockets: ``publicar`` is synchronous and never waits on the network (``ns.emit`` is synchronous), a
publish that can't happen is counted and dropped (local delivery already happened), and the
subscriptions (assinaturas.py: one connection per node, moved when the slot map changes) reconnect on
their own with exponential backoff and jitter. ``disponivel`` is what /ready reports.

Every channel is a sharded one (``SPUBLISH``/``SSUBSCRIBE``), on one Redis as on a Redis Cluster
(topologia.py): one code path. Channels come and go while the instance runs (a tenant's channel is
held while the instance has sockets of that tenant: ``assinar``/``liberar``).

No automatic command retries anywhere: a PUBLISH or a presence script re-sent after a connection error
may already have run once, and a duplicate would deliver an event twice or count a socket twice. Our
own loops recover instead (the subscriptions here, the presence re-synchronisation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from atendimento.cluster import metricas
from atendimento.cluster.assinaturas import Assinaturas
from atendimento.cluster.topologia import ERROS_REDIS, Cliente, Topologia, build_redis_client

__all__ = ["RedisLink", "build_redis_client", "encerrar"]

log = logging.getLogger(__name__)

Receptor = Callable[[bytes], None]

# How long a stop waits for queued publishes before closing: a deploy should not lose the last events.
ESPERA_ESVAZIAR_S = 1.0
LOTE_MAXIMO = 512


async def encerrar(tarefas: list[asyncio.Task[None]], prazo_s: float = 5.0) -> None:
    """Cancel ``tarefas`` and wait for them, cancelling again any that swallowed the cancellation.

    Why again: on Python 3.11 a cancellation that lands while a read timeout expires inside redis-py
    can surface as TimeoutError (an OSError), which a reconnect loop takes for a network failure.
    The loops also check their own stop flag; this is the belt to those braces.
    """
    pendentes = {t for t in tarefas if not t.done()}
    limite = time.monotonic() + prazo_s
    while pendentes and time.monotonic() < limite:
        for tarefa in pendentes:
            tarefa.cancel()
        _, pendentes = await asyncio.wait(pendentes, timeout=0.2)
    if pendentes:
        log.error("tasks did not stop: %s", sorted(t.get_name() for t in pendentes))


class RedisLink:
    """Pub/sub for one instance: ``assinar`` channels, ``publicar`` bytes, ``disponivel`` for health."""

    def __init__(
        self,
        cliente: Cliente,
        *,
        fila_maxima: int = 10_000,
        backoff_min_s: float = 0.1,
        backoff_max_s: float = 2.0,
    ) -> None:
        self.cliente = cliente
        self.topologia = Topologia(cliente)
        self._receptores: dict[str, Receptor] = {}
        self._assinaturas = Assinaturas(
            self.topologia, self._entregar, self._assinaturas_mudaram, backoff=(backoff_min_s, backoff_max_s)
        )
        self._fila: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=fila_maxima)
        self._backoff = (backoff_min_s, backoff_max_s)
        self._tarefas: list[asyncio.Task[None]] = []
        self._religando: asyncio.Task[None] | None = None
        self._parando = False
        self._assinado = False
        self._publicacao_ok = True
        self._caiu = False  # it had been available and went down: the next "up" is a reconnection
        self._desde = time.time()
        self._ouvintes_disponibilidade: list[Callable[[bool], None]] = []
        self._evento_disponivel = asyncio.Event()
        # Plain counters for tests and health(); the Prometheus ones are process-wide.
        self.nao_compartilhadas = 0
        self.reconexoes = 0
        self.recebidas = 0  # messages read from Redis, every channel
        # A channel of the link's own, so that it holds a connection (and notices an outage) even
        # before anything else subscribes.
        self.assinar(f"atendimento:link:{secrets.token_hex(8)}", lambda _: None)

    # --- state ------------------------------------------------------------------------------------

    @property
    def _ultimo_erro(self) -> str | None:
        return self._assinaturas.ultimo_erro

    @_ultimo_erro.setter
    def _ultimo_erro(self, valor: str | None) -> None:
        self._assinaturas.ultimo_erro = valor

    @property
    def disponivel(self) -> bool:
        """True while emits reach the other instances: subscribed, and the last publish worked."""
        return self._assinado and self._publicacao_ok

    def ao_mudar_disponibilidade(self, ouvinte: Callable[[bool], None]) -> None:
        """Call ``ouvinte(disponivel)`` on each change (presence re-synchronises when Redis is back)."""
        self._ouvintes_disponibilidade.append(ouvinte)

    def estado(self) -> dict[str, object]:
        return {
            "redis": "ok" if self.disponivel else "degraded",
            "desde": datetime.fromtimestamp(self._desde, UTC).isoformat(timespec="milliseconds"),
            "erro": None if self.disponivel else self._ultimo_erro,
            "emissoesNaoCompartilhadas": self.nao_compartilhadas,
            "reconexoes": self.reconexoes,
            "canais": len(self._receptores),
        }

    def _mudar(self, *, assinado: bool | None = None, publicacao_ok: bool | None = None) -> None:
        antes = self.disponivel
        if assinado is not None:
            self._assinado = assinado
        if publicacao_ok is not None:
            self._publicacao_ok = publicacao_ok
        agora = self.disponivel
        if agora == antes:
            return
        self._desde = time.time()
        if agora:
            self._evento_disponivel.set()
            if self._caiu:
                self.reconexoes += 1
                metricas.RECONEXOES.inc()
        else:
            self._evento_disponivel.clear()
            self._caiu = not self._parando
        metricas.REDIS_DISPONIVEL.set(1 if agora else 0)
        if agora:
            log.info("cluster: Redis available; emits are shared with the other instances")
        elif self._parando:
            log.info("cluster: Redis link closed (stopping)")
        else:
            log.warning(
                "cluster: Redis unavailable (%s); serving this instance's sockets only", self._ultimo_erro
            )
        for ouvinte in self._ouvintes_disponibilidade:
            try:
                ouvinte(agora)
            except Exception:
                log.exception("cluster: availability listener failed")

    # --- subscribing --------------------------------------------------------------------------------

    def assinar(self, channel: str, receptor: Receptor, *, classico: bool = False) -> None:
        """Deliver every message of ``channel`` to ``receptor`` (called on the event loop, never raises).

        ``classico``: a classic channel (``SUBSCRIBE``, for what others ``PUBLISH``, such as the emitters
        of other services); ours are sharded."""
        self._receptores[channel] = receptor
        self._assinaturas.assinar(channel, classico=classico)

    def assinar_padrao(self, padrao: str, receptor: Receptor) -> None:
        """Deliver every message of the classic channels matching the glob ``padrao`` (PSUBSCRIBE: the
        Node emitter's room channels) to ``receptor``."""
        self._receptores[padrao] = receptor
        self._assinaturas.assinar(padrao, padrao=True)

    def liberar(self, channel: str) -> None:
        """Stop reading ``channel`` (SUNSUBSCRIBE); its messages are no longer delivered here."""
        if self._receptores.pop(channel, None) is not None:
            self._assinaturas.liberar(channel)

    def assinando(self, channel: str) -> bool:
        return channel in self._receptores

    async def esperar_assinado(self, channel: str, prazo_s: float) -> bool:
        """Wait until Redis confirmed ``channel`` (a message published after this returns True reaches us)."""
        limite = time.monotonic() + prazo_s
        while not self._assinaturas.confirmado(channel):
            if time.monotonic() > limite or channel not in self._receptores:
                return False
            await asyncio.sleep(0.005)
        return True

    def _assinaturas_mudaram(self) -> None:
        self._mudar(assinado=self._assinaturas.assinado)

    def _entregar(self, nome: str, dados: object) -> None:
        self.recebidas += 1
        metricas.BACKPLANE_RECEBIDAS.inc()
        receptor = self._receptores.get(nome)
        if receptor is None or not isinstance(dados, bytes | str):
            metricas.BACKPLANE_DESCARTADAS.inc()  # a channel we just left
            return
        try:
            receptor(dados if isinstance(dados, bytes) else dados.encode())
        except Exception:
            # A receiver bug must not stop the subscription of every namespace.
            log.exception("cluster: receiver of channel %s failed", nome)

    async def contar_assinantes(self, channel: str) -> int:
        """``PUBSUB SHARDNUMSUB`` of ``channel``, asked of the node that owns it."""
        cliente = self.topologia.cliente_de(self.topologia.no_de(channel))
        resposta = await cliente.execute_command("PUBSUB", "SHARDNUMSUB", channel)  # type: ignore[no-untyped-call]
        return int(resposta[1]) if isinstance(resposta, list) else int(dict(resposta).get(channel, 0))

    # --- publishing --------------------------------------------------------------------------------

    def publicar(self, channel: str, dados: bytes) -> bool:
        """Queue ``dados`` for ``channel``; False (and counted) when it can't be shared right now."""
        if not self.disponivel:
            self.contar_nao_compartilhada("redis")
            return False
        try:
            self._fila.put_nowait((channel, dados))
        except asyncio.QueueFull:
            self.contar_nao_compartilhada("fila")
            return False
        return True

    def contar_nao_compartilhada(self, motivo: str, quantas: int = 1) -> None:
        self.nao_compartilhadas += quantas
        metricas.EMISSOES_NAO_COMPARTILHADAS.labels(motivo).inc(quantas)

    async def _publicar(self) -> None:
        while True:
            lote = [await self._fila.get()]
            while len(lote) < LOTE_MAXIMO and not self._fila.empty():
                lote.append(self._fila.get_nowait())
            try:
                await self._enviar(lote)
            finally:
                for _ in lote:
                    self._fila.task_done()

    async def _enviar(self, lote: list[tuple[str, bytes]]) -> None:
        if not self.disponivel:
            self.contar_nao_compartilhada("redis", len(lote))
            return
        try:
            # One round trip per node for a burst; order within the burst is kept per node (one
            # connection each, in order), which is the order a channel's subscribers see.
            async with self.cliente.pipeline(transaction=False) as pipe:
                for channel, dados in lote:
                    pipe.spublish(channel, dados)
                await pipe.execute()
        except ERROS_REDIS as exc:
            self._ultimo_erro = f"{type(exc).__name__}: {exc}"
            self.contar_nao_compartilhada("redis", len(lote))
            self._mudar(publicacao_ok=False)
            if self._religando is None or self._religando.done():
                self._religando = asyncio.create_task(self._religar(), name="cluster-religar")

    async def _religar(self) -> None:
        """After a failed publish: back once every primary answers a PING (slot map re-read first)."""
        espera = self._backoff[0]
        while not self._parando and not self._publicacao_ok:
            await asyncio.sleep(random.uniform(espera / 2, espera))
            espera = min(espera * 2, self._backoff[1])
            try:
                await self.topologia.atualizar()
                for no in self.topologia.nos():
                    await self.topologia.cliente_de(no).ping()
            except ERROS_REDIS as exc:
                self._ultimo_erro = f"{type(exc).__name__}: {exc}"
                continue
            self._mudar(publicacao_ok=True)

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tarefas:
            return
        self._parando = False
        metricas.REDIS_DISPONIVEL.set(0)
        await self._assinaturas.iniciar()
        self._tarefas = [asyncio.create_task(self._publicar(), name="cluster-publicador")]

    async def esperar_disponivel(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the first subscription; start-up goes on either way."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._evento_disponivel.wait(), timeout_s)
        return self.disponivel

    async def stop(self) -> None:
        tarefas, self._tarefas = self._tarefas, []
        if tarefas and self.disponivel:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fila.join(), ESPERA_ESVAZIAR_S)
        self._parando = True
        tarefas += await self._assinaturas.parar()
        if self._religando is not None:
            tarefas.append(self._religando)
        await encerrar(tarefas)
        if self._fila.qsize():
            self.contar_nao_compartilhada("parado", self._fila.qsize())  # Redis too slow to flush
        self._ultimo_erro = "stopped"
        self._mudar(assinado=False)
        with contextlib.suppress(Exception):
            await self.topologia.fechar()
