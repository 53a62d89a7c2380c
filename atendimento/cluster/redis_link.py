"""The instance's two Redis links: a pub/sub subscription it listens on, and a queue it publishes from.

Redis is the broker; this is only its client side, built so that Redis going away never reaches the
sockets: ``publicar`` is synchronous and never waits on the network (``ns.emit`` is synchronous), a
publish that can't happen is counted and dropped (local delivery already happened), and the listener
reconnects on its own with exponential backoff and jitter. ``disponivel`` is what /ready reports.

No automatic command retries anywhere: a PUBLISH or a presence script re-sent after a connection error
may already have run once, and a duplicate would deliver an event twice or count a socket twice. Our
own loops recover instead (the listener here, the presence re-synchronisation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from atendimento.cluster import metricas

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


def build_redis_client(url: str, *, timeout_s: float = 2.0) -> Redis:
    """A redis.asyncio client for ``url`` with bounded timeouts and no automatic retries (see above)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        # A PING on an idle pub/sub connection, so a half-open link is noticed, not waited on forever.
        health_check_interval=5,
        retry=Retry(NoBackoff(), 0),
    )


class RedisLink:
    """Pub/sub for one instance: ``assinar`` channels, ``publicar`` bytes, ``disponivel`` for health."""

    def __init__(
        self,
        cliente: Redis,
        *,
        fila_maxima: int = 10_000,
        backoff_min_s: float = 0.1,
        backoff_max_s: float = 2.0,
    ) -> None:
        self.cliente = cliente
        self._receptores: dict[str, Receptor] = {}
        self._padroes: dict[str, Receptor] = {}  # PSUBSCRIBE patterns (the Node emitter's room channels)
        self._fila: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=fila_maxima)
        self._backoff = (backoff_min_s, backoff_max_s)
        self._tarefas: list[asyncio.Task[None]] = []
        self._parando = False
        self._assinado = False
        self._publicacao_ok = True
        self._novas_assinaturas = False
        self._desde = time.time()
        self._ultimo_erro: str | None = None
        self._ouvintes_disponibilidade: list[Callable[[bool], None]] = []
        self._evento_disponivel = asyncio.Event()
        # Plain counters for tests and health(); the Prometheus ones are process-wide.
        self.nao_compartilhadas = 0
        self.reconexoes = 0

    # --- state ------------------------------------------------------------------------------------

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
        else:
            self._evento_disponivel.clear()
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

    def assinar(self, channel: str, receptor: Receptor) -> None:
        """Deliver every message of ``channel`` to ``receptor`` (called on the event loop, never raises)."""
        self._receptores[channel] = receptor
        self._novas_assinaturas = True

    def assinar_padrao(self, padrao: str, receptor: Receptor) -> None:
        """Deliver every message of the channels matching the glob ``padrao`` (PSUBSCRIBE) to ``receptor``."""
        self._padroes[padrao] = receptor
        self._novas_assinaturas = True

    async def _ouvir(self) -> None:
        espera = self._backoff[0]
        while not self._parando:
            try:
                await self._sessao()
            except (RedisError, OSError) as exc:
                if self._parando:
                    return
                self._ultimo_erro = f"{type(exc).__name__}: {exc}"
            if self._assinado:
                espera = self._backoff[0]  # it had worked: start the backoff over
            self._mudar(assinado=False)
            # Jitter, so instances cut off together don't all reconnect in the same instant.
            await asyncio.sleep(random.uniform(espera / 2, espera))
            espera = min(espera * 2, self._backoff[1])

    async def _sessao(self) -> None:
        """One subscription, until its connection fails."""
        pubsub = self.cliente.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.ping()  # opens the connection even with no channel yet
            self._novas_assinaturas = True
            conectou = False
            while True:
                if self._novas_assinaturas:
                    self._novas_assinaturas = False
                    if self._receptores:
                        await pubsub.subscribe(*self._receptores)
                    if self._padroes:
                        await pubsub.psubscribe(*self._padroes)
                if not conectou:
                    conectou = True
                    if not self._publicacao_ok:
                        await self.cliente.ping()
                    if self._ultimo_erro is not None:
                        self.reconexoes += 1
                        metricas.RECONEXOES.inc()
                    self._mudar(assinado=True, publicacao_ok=True)
                elif not self._publicacao_ok:
                    # The publish link failed while this one held: back once a PING goes through.
                    await self.cliente.ping()
                    self._mudar(publicacao_ok=True)
                # Also reads the PONG above, and waits when there is no channel yet.
                mensagem = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if mensagem is not None and mensagem.get("type") == "message":
                    self._entregar(mensagem["channel"], mensagem["data"])
                elif mensagem is not None and mensagem.get("type") == "pmessage":
                    self._entregar(mensagem["pattern"], mensagem["data"], self._padroes)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    def _entregar(
        self, channel: bytes | str, dados: object, receptores: dict[str, Receptor] | None = None
    ) -> None:
        nome = channel.decode() if isinstance(channel, bytes) else channel
        receptor = (self._receptores if receptores is None else receptores).get(nome)
        if receptor is None or not isinstance(dados, bytes | str):
            return
        try:
            receptor(dados if isinstance(dados, bytes) else dados.encode())
        except Exception:
            # A receiver bug must not stop the subscription of every namespace.
            log.exception("cluster: receiver of channel %s failed", nome)

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
            # One round trip for a burst; order within the burst is kept (one connection, in order).
            async with self.cliente.pipeline(transaction=False) as pipe:
                for channel, dados in lote:
                    pipe.publish(channel, dados)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._ultimo_erro = f"{type(exc).__name__}: {exc}"
            self.contar_nao_compartilhada("redis", len(lote))
            self._mudar(publicacao_ok=False)

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tarefas:
            return
        self._parando = False
        metricas.REDIS_DISPONIVEL.set(0)
        self._tarefas = [
            asyncio.create_task(self._ouvir(), name="cluster-ouvinte"),
            asyncio.create_task(self._publicar(), name="cluster-publicador"),
        ]

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
        await encerrar(tarefas)
        if self._fila.qsize():
            self.contar_nao_compartilhada("parado", self._fila.qsize())  # Redis too slow to flush
        self._ultimo_erro = "stopped"
        self._mudar(assinado=False)
        with contextlib.suppress(Exception):
            await self.cliente.aclose()
