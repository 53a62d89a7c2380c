"""The relay: takes due events from the outbox and delivers them, at least once, in order per ticket.

One loop per process claims as many due events as it has free slots (``ATENDIMENTO_WEBHOOK_CONCURRENCY``
in flight; endpoints already at ``ATENDIMENTO_WEBHOOK_CONCURRENCY_PER_ENDPOINT`` here are left out
of the claim, so one slow receiver cannot take every slot) and runs one task per event. A claim is a
lease in the database (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so two instances never take one
event): a process that dies mid-delivery (``kill -9``) leaves its events to whoever claims after the
lease ends (twice the attempt timeout plus a margin). Each attempt is recorded with its outcome in
the event's tenant's transaction; the event keeps its ``webhook-id`` through every attempt.

Waking: ``acordar()`` (the domain calls it after committing an outbox row, in this process); the end
of a delivery (its ticket's next event may be due); the time of the earliest retry this process
scheduled; and at most every ``ATENDIMENTO_WEBHOOK_POLL_SECONDS`` when idle, for rows other
instances wrote or retries whose instance went away. An idle relay costs one small query per poll,
and wake-ups that follow a claim which found nothing are gathered into one per 50 ms (writes on
channels with no endpoint wake it too: the domain cannot tell, without a read, whether a row was
queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from atendimento.domain.entidades import agora
from atendimento.domain.saida import TIPO_MENSAGEM_CRIADA
from atendimento.storage.saida_relay import Envio, FilaSaida, Reivindicado
from atendimento.webhooks import assinatura, corpo, politica
from atendimento.webhooks.cliente_http import ClienteWebhook
from atendimento.webhooks.metricas import INTERVALO_ENDPOINTS_S, MetricasWebhooks

log = logging.getLogger(__name__)

# Called once per event the relay gives up on (a message's delivery) and per endpoint it disables.
AoFalhar = Callable[[str, str, str, str, str], Awaitable[None]]  # empresa, canal, mensagem, entrega, motivo
AoDesativar = Callable[[str, str, str], Awaitable[None]]  # empresa, canal, motivo
ESPERA_APOS_ERRO_S = 1.0
INTERVALO_MINIMO_S = 0.05


@dataclass(frozen=True, slots=True)
class ConfigRelay:
    agenda: list[float]
    timeout_s: float
    desativar_apos_s: float
    concorrencia: int
    por_endpoint: int
    poll_s: float

    @property
    def lease_s(self) -> float:
        # Long enough for one attempt (connect + answer within the timeout) and the recording after it.
        return 2 * self.timeout_s + 10


async def _nada_falhou(*_: str) -> None:
    pass


class Relay:
    def __init__(
        self,
        fila: FilaSaida,
        cliente: ClienteWebhook,
        config: ConfigRelay,
        *,
        metricas: MetricasWebhooks | None = None,
        ao_falhar: AoFalhar = _nada_falhou,
        ao_desativar: AoDesativar = _nada_falhou,
    ) -> None:
        self._fila = fila
        self._cliente = cliente
        self._config = config
        self.metricas = metricas or MetricasWebhooks()
        self._ao_falhar = ao_falhar
        self._ao_desativar = ao_desativar
        self.dono = "relay-" + secrets.token_hex(8)
        self._acordado = asyncio.Event()
        self._em_curso: set[asyncio.Task[None]] = set()
        self._por_canal: Counter[str] = Counter()
        self._proxima_retentativa: float | None = None
        self._aleatorio = random.Random()
        self._tarefa: asyncio.Task[None] | None = None
        self._contagem: asyncio.Task[None] | None = None
        self._vazia_em: float | None = None
        self._contado = False  # the endpoints were counted at least once (acordar's shortcut)
        self._contado_em = 0.0
        self._recontagem: asyncio.Task[None] | None = None

    def acordar(self) -> None:
        # No active endpoint anywhere (as last counted): an agent's message queued nothing, so the
        # write path pays no claim for it. The periodic claim (poll_s) still runs, so an endpoint
        # created since the last count starts delivering within poll_s.
        if self._sem_endpoints:
            # Counted again at most once a second, so an endpoint created meanwhile is noticed.
            if self._recontagem is None and time.monotonic() - self._contado_em >= 1.0:
                self._recontagem = asyncio.create_task(self._recontar())
            return
        self._acordado.set()

    async def _recontar(self) -> None:
        try:
            self.metricas.endpoints = await self._fila.contar_endpoints()
            self._contado_em = time.monotonic()
            if not self._sem_endpoints:
                self._acordado.set()
        except Exception as exc:
            log.debug("webhooks: counting endpoints failed (%s)", type(exc).__name__)
        finally:
            self._recontagem = None

    @property
    def _sem_endpoints(self) -> bool:
        contagem = self.metricas.endpoints
        return self._contado and not any(n for (_, ativo), n in contagem.items() if ativo)

    async def start(self) -> None:
        self._tarefa = asyncio.create_task(self._laco(), name="webhooks-relay")
        self._contagem = asyncio.create_task(self._contar_endpoints(), name="webhooks-endpoints")

    async def stop(self) -> None:
        """Stop claiming, let the deliveries in flight finish (each is bounded by the attempt's
        timeout), then close the client. One still running past that is cancelled: its lease runs
        out and the event is delivered again, by this instance after a restart or by another."""
        for tarefa in (self._tarefa, self._contagem, self._recontagem):
            if tarefa is not None:
                tarefa.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tarefa
        if self._em_curso:
            _, restantes = await asyncio.wait(set(self._em_curso), timeout=self._config.timeout_s + 5)
            for tarefa in restantes:
                tarefa.cancel()
            await asyncio.gather(*restantes, return_exceptions=True)
        await self._cliente.fechar()

    async def _contar_endpoints(self) -> None:
        while True:
            try:
                self.metricas.endpoints = await self._fila.contar_endpoints()
                self._contado = True
                self._contado_em = time.monotonic()
            except Exception as exc:
                log.debug("webhooks: counting endpoints failed (%s)", type(exc).__name__)
            await asyncio.sleep(INTERVALO_ENDPOINTS_S)

    # --- the loop -------------------------------------------------------------------------------

    def _espera(self) -> float:
        espera = self._config.poll_s
        if self._proxima_retentativa is not None:
            espera = min(espera, max(0.0, self._proxima_retentativa - time.monotonic()))
        return espera

    async def _laco(self) -> None:
        while True:
            self._acordado.clear()
            livres = self._config.concorrencia - len(self._em_curso)
            if livres > 0:
                if self._proxima_retentativa is not None and self._proxima_retentativa <= time.monotonic():
                    self._proxima_retentativa = None
                # Wake-ups right after a claim that found nothing are gathered: a busy tenant's
                # writes on channels without an endpoint cost at most one claim per INTERVALO_MINIMO_S.
                if self._vazia_em is not None:
                    espera = INTERVALO_MINIMO_S - (time.monotonic() - self._vazia_em)
                    if espera > 0:
                        await asyncio.sleep(espera)
                saturados = [c for c, n in self._por_canal.items() if n >= self._config.por_endpoint]
                try:
                    achados = await self._fila.reivindicar(self.dono, self._config.lease_s, livres, saturados)
                except Exception as exc:
                    log.warning("webhooks: claiming failed (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(ESPERA_APOS_ERRO_S)
                    continue
                self._vazia_em = None if achados else time.monotonic()
                for r in achados:
                    self._iniciar(r)
                if len(achados) == livres:
                    continue  # more may be due: claim again while slots are free
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that lands
            # as the event is set (a delivery ending as the relay stops), and stop() then waits forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._espera()):
                    await self._acordado.wait()

    def _iniciar(self, r: Reivindicado) -> None:
        self._por_canal[r.canal_id] += 1
        tarefa = asyncio.create_task(self._entregar(r))
        self._em_curso.add(tarefa)

        def fim(t: asyncio.Task[None]) -> None:
            self._em_curso.discard(t)
            self._por_canal[r.canal_id] -= 1
            if self._por_canal[r.canal_id] <= 0:
                del self._por_canal[r.canal_id]
            self._acordado.set()  # a slot is free, and this ticket's next event may be due

        tarefa.add_done_callback(fim)

    # --- one delivery -----------------------------------------------------------------------------

    async def _entregar(self, r: Reivindicado) -> None:
        try:
            envio = await self._fila.carregar(r.empresa_id, r.seq)
            if envio is None:
                return
            if not envio.ativo:
                await self._fila.soltar(r.empresa_id, r.seq, self.dono)
                return
            await self._tentar(envio)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease runs out and the event is claimed again: nothing is lost.
            log.exception("webhooks: delivery of event %s failed unexpectedly", r.seq)

    async def _tentar(self, envio: Envio) -> None:
        texto = corpo.montar(envio)
        em = agora()
        if texto is None or len(texto.encode()) > corpo.MAX_CORPO:
            motivo = "o que o evento conta não existe mais" if texto is None else "corpo acima de 256 KB"
            resultado = politica.Resultado(None, motivo, 0)
            decisao = politica.Decisao("falhou", None, None)
            texto = texto or ""
        else:
            dados = texto.encode()
            chaves = [assinatura.chave(s) for s in envio.segredos]
            cabecalhos = assinatura.cabecalhos(chaves, envio.id, int(time.time()), dados)
            resultado = await self._cliente.enviar(envio.url, dados, cabecalhos)
            decisao = politica.decidir(
                resultado, envio.tentativas_rodada + 1, self._config.agenda, self._aleatorio
            )
        conclusao = await self._fila.concluir(
            envio,
            self.dono,
            corpo=texto,
            em=em,
            http_status=resultado.http_status,
            erro=resultado.erro,
            duracao_ms=resultado.duracao_ms,
            estado=decisao.estado,
            atraso_s=decisao.atraso_s,
            desativar=decisao.desativar,
            desativar_apos_s=self._config.desativar_apos_s,
        )
        self.metricas.tentativa(
            envio.empresa_id, decisao.estado if decisao.estado != "pendente" else "retentar"
        )
        if decisao.atraso_s is not None and decisao.desativar is None:
            quando = time.monotonic() + decisao.atraso_s
            if self._proxima_retentativa is None or quando < self._proxima_retentativa:
                self._proxima_retentativa = quando
        motivo = politica.descrever(resultado)
        if conclusao.desativado is not None:
            self.metricas.desativado(envio.empresa_id)
            log.warning("webhooks: endpoint of channel %s disabled: %s", envio.canal_id, conclusao.desativado)
            await self._ao_desativar(envio.empresa_id, envio.canal_id, conclusao.desativado)
        if conclusao.falhou and envio.tipo == TIPO_MENSAGEM_CRIADA and envio.mensagem_id is not None:
            await self._ao_falhar(envio.empresa_id, envio.canal_id, envio.mensagem_id, envio.id, motivo)
