"""Per-tenant series for /metrics (label ``empresa``), with bounded cardinality, and per-instance gauges.

Counted here, cheaply: sockets connected (engine hooks), events delivered by event name (one call per
emit with its recipient count, engine/socketio/monitor.py: the tenant is that of one recipient, since no room
holds two tenants' sockets), client events by outcome (one call from the gateway's ack wrapper), and
REST writes (an ASGI wrapper around the API, ``ContagemEscritas``). Plain dicts; the Prometheus
families are built at scrape time.

Cardinality: at each scrape the ``maximo_empresas`` tenants with most activity so far (events
delivered + client events + writes, since start) get their own label; every other tenant is summed
into ``empresa="outras"``. A tenant that enters or leaves the top moves its counts between series, which
``rate()`` reads as a counter reset of those series: acceptable for a view of who is busy, and the
totals (sum over ``empresa``) stay exact.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atendimento.engine import Server, Socket
from atendimento.engine.socketio.monitor import Monitor
from atendimento.monitoring.tarefas import cancelar

OUTRAS = "outras"
EmpresaDe = Callable[[Socket], str | None]
CHAVE_ESTADO_EMPRESA = "empresa_id"  # what the API puts in the request's state once it knows the tenant

# The outcomes counted: these two codes of domain/codigos.py (monitoring may not import the domain;
# tests/monitoring checks they match).
CODIGO_LIMITE = "LIMITE_EXCEDIDO"
CODIGO_ERRO = "ERRO_INTERNO"


def resultado_do_ack(ack: object) -> str:
    """``ok``, ``limitado`` (rate limit), ``erro`` (our fault) or ``recusado`` (anything else refused)."""
    if isinstance(ack, dict) and ack.get("success") is True:
        return "ok"
    codigo = ack.get("code") if isinstance(ack, dict) else None
    if codigo == CODIGO_LIMITE:
        return "limitado"
    if codigo == CODIGO_ERRO:
        return "erro"
    return "recusado"


class MetricasEmpresa(Monitor, Collector):
    def __init__(self, server: Server, namespace: str, empresa_de: EmpresaDe, maximo_empresas: int) -> None:
        self._server = server
        self._nsp = namespace
        self._empresa_de = empresa_de
        self.maximo = maximo_empresas
        self.sockets: Counter[str] = Counter()
        self.entregues: Counter[tuple[str, str]] = Counter()
        self.eventos_cliente: Counter[tuple[str, str]] = Counter()
        self.escritas: Counter[str] = Counter()
        self.atividade: Counter[str] = Counter()
        self.lag_s = 0.0
        self.buffer_recuperacao: Callable[[], float] = lambda: 0.0
        self.redis_ok: Callable[[], bool | None] = lambda: None
        self._tarefa: asyncio.Task[None] | None = None

    # --- counting -----------------------------------------------------------------------------------

    def _empresa(self, socket: Socket | None) -> str | None:
        return None if socket is None else self._empresa_de(socket)

    def socket_connected(self, socket: Socket) -> None:
        if socket.nsp.name == self._nsp and (empresa := self._empresa(socket)) is not None:
            self.sockets[empresa] += 1

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        if socket.nsp.name == self._nsp and (empresa := self._empresa(socket)) is not None:
            self.sockets[empresa] -= 1
            if self.sockets[empresa] <= 0:
                del self.sockets[empresa]

    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        if nsp != self._nsp or not recipients or first_sid is None:
            return
        empresa = self._empresa(self._server.namespaces[nsp].sockets.get(first_sid))
        if empresa is not None:
            self.entregues[empresa, event] += recipients
            self.atividade[empresa] += recipients

    def evento_cliente(self, socket: Socket, evento: str, ack: object) -> None:
        """Called by the gateway's ack wrapper once per client event, with the ack it answers."""
        empresa = self._empresa(socket)
        if empresa is not None:
            self.eventos_cliente[empresa, resultado_do_ack(ack)] += 1
            self.atividade[empresa] += 1

    def escrita_rest(self, empresa: str) -> None:
        self.escritas[empresa] += 1
        self.atividade[empresa] += 1

    # --- scrape -------------------------------------------------------------------------------------

    def _rotulo(self) -> Callable[[str], str]:
        topo = {e for e, _ in self.atividade.most_common(self.maximo)}
        topo.update(e for e, _ in self.sockets.most_common(self.maximo) if len(topo) < self.maximo)
        return lambda empresa: empresa if empresa in topo else OUTRAS

    def collect(self) -> Iterator[Metric]:
        rotulo = self._rotulo()
        sockets = GaugeMetricFamily(
            "atendimento_empresa_sockets", "Sockets connected to /atendimento, by tenant", labels=["empresa"]
        )
        for (empresa,), valor in _somar(self.sockets, lambda e: (rotulo(e),)).items():
            sockets.add_metric([empresa], valor)
        yield sockets
        entregues = CounterMetricFamily(
            "atendimento_empresa_eventos_entregues",
            "Server events delivered to sockets (one per recipient), by tenant and event",
            labels=["empresa", "evento"],
        )
        for (empresa, evento), valor in _somar(self.entregues, lambda k: (rotulo(k[0]), k[1])).items():
            entregues.add_metric([empresa, evento], valor)
        yield entregues
        cliente = CounterMetricFamily(
            "atendimento_empresa_eventos_cliente",
            "Client events answered, by tenant and outcome (ok, recusado, limitado, erro)",
            labels=["empresa", "resultado"],
        )
        for (empresa, resultado), valor in _somar(
            self.eventos_cliente, lambda k: (rotulo(k[0]), k[1])
        ).items():
            cliente.add_metric([empresa, resultado], valor)
        yield cliente
        escritas = CounterMetricFamily(
            "atendimento_empresa_escritas_rest", "REST writes that succeeded, by tenant", labels=["empresa"]
        )
        for (empresa,), valor in _somar(self.escritas, lambda e: (rotulo(e),)).items():
            escritas.add_metric([empresa], valor)
        yield escritas
        yield GaugeMetricFamily(
            "atendimento_event_loop_lag_seconds",
            "How late the event loop ran a timer, last sample",
            value=self.lag_s,
        )
        yield GaugeMetricFamily(
            "atendimento_recuperacao_buffer",
            "Bytes held for connection-state recovery in this instance (kept events and saved sessions)",
            value=float(self.buffer_recuperacao()),
        )
        redis = self.redis_ok()
        if redis is not None:
            yield GaugeMetricFamily(
                "atendimento_redis_link",
                "1 while this instance's Redis link is up, 0 while degraded",
                value=int(redis),
            )

    # --- event-loop lag -----------------------------------------------------------------------------

    async def start(self, intervalo_s: float = 0.5) -> None:
        if self._tarefa is None:
            self._tarefa = asyncio.create_task(self._medir_lag(intervalo_s), name="metricas-lag")

    async def stop(self) -> None:
        tarefa, self._tarefa = self._tarefa, None
        await cancelar(tarefa)

    async def _medir_lag(self, intervalo_s: float) -> None:
        while True:
            antes = time.monotonic()
            await asyncio.sleep(intervalo_s)
            self.lag_s = max(0.0, time.monotonic() - antes - intervalo_s)


def _somar(contagens: Counter[Any], chave: Callable[[Any], tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    somado: dict[tuple[str, ...], float] = {}
    for k, v in contagens.items():
        nova = chave(k)
        somado[nova] = somado.get(nova, 0) + v
    return somado


class ContagemEscritas:
    """ASGI wrapper of the API: a POST/PUT/PATCH/DELETE answered 2xx counts one write for the tenant the
    API put in the request's state (``request.state.empresa_id``, set once the caller is verified)."""

    METODOS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp, metricas: MetricasEmpresa) -> None:
        self.app = app
        self.metricas = metricas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in self.METODOS:
            await self.app(scope, receive, send)
            return
        status = 0

        async def enviar(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, enviar)
        empresa = scope.get("state", {}).get(CHAVE_ESTADO_EMPRESA)
        if 200 <= status < 300 and isinstance(empresa, str):
            self.metricas.escrita_rest(empresa)
