"""The Redis emitters of the socket.io ecosystem, read off their own channels (docs/emitters.md).

Two wires, learnt from the emitters' sources and written here from scratch:

- ``node``, ``@socket.io/redis-emitter`` 5.x: an emit is msgpack ``[uid, packet, opts]`` with
  ``packet = {type: 2, data: [event, ...args], nsp}`` and ``opts = {rooms, except, flags}``, on
  ``{key}#{nsp}#`` (several rooms, or none) or ``{key}#{nsp}#{room}#`` (exactly one), hence one
  PSUBSCRIBE ``{key}#{nsp}#*``. ``socketsJoin``/``socketsLeave``/``disconnectSockets`` are JSON
  ``{type: 2|3|4, opts: {rooms, except}, rooms?, close?}`` on ``{key}-request#{nsp}#``.
- ``python``, python-socketio's ``AsyncRedisManager``/``RedisManager`` (5.14+), write-only: JSON
  ``{method: "emit", event, data: [args], namespace, room, skip_sid, binary, callback, host_id}`` on
  one channel (``socketio``). Its other methods address python-socketio's own sids and are refused.

Why ``msgpack`` (the PyPI package, pinned): the Node emitter's wire is MessagePack (notepack.io) and the
standard library has no decoder; msgpack is the reference implementation, with a C extension and
bounds on what it unpacks. notepack.io 3 writes ``undefined`` as nil and a ``Date`` as msgpack's
timestamp extension, which becomes the ISO string ``JSON.stringify`` would have given the client;
no other extension type is accepted.

This module only decodes and counts: each message becomes a ``PedidoEmissor`` that the gateway's
receiver checks and applies to this instance's sockets (``gateway/emissores.py``). Nothing received
here is published again. A message too big is dropped unread; a malformed one is dropped with a log
line (at most ``LINHAS_POR_INTERVALO`` per ``INTERVALO_S``, the rest summed up in the next one).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import msgpack
from prometheus_client import Counter

from atendimento.cluster.redis_link import RedisLink
from atendimento.gateway.portas import PedidoEmissor, ReceptorEmissores

log = logging.getLogger(__name__)

PEDIDOS = Counter(
    "atendimento_emissores_pedidos",
    "What the Redis emitters published, by emitter and outcome (aceito, or the reason it was refused).",
    ["emissor", "resultado"],
)
LINHAS_POR_INTERVALO = 5
INTERVALO_S = 10.0
_EVENT = 2  # socket.io-parser's EVENT
_TIPOS_NODE = {2: "join", 3: "leave", 4: "disconnect"}  # the adapter's REMOTE_JOIN, _LEAVE, _DISCONNECT


class Malformada(ValueError):
    """A message that is not what the emitter's wire says."""


def _ext(codigo: int, dados: bytes) -> object:
    raise Malformada(f"msgpack extension type {codigo}")  # notepack.io uses none but the timestamp


def _iso(instante: datetime) -> str:
    return instante.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sem_datas(valor: object) -> object:
    """A ``Date`` arrives as msgpack's timestamp; a client gets it as ``JSON.stringify`` gives it."""
    if isinstance(valor, datetime):
        return _iso(valor)
    if isinstance(valor, list):
        return [_sem_datas(v) for v in valor]
    if isinstance(valor, dict):
        return {k: _sem_datas(v) for k, v in valor.items()}
    return valor


def _textos(valor: object) -> tuple[str, ...]:
    if valor is None:
        return ()
    if isinstance(valor, str):
        return (valor,)
    if isinstance(valor, list) and all(isinstance(v, str) for v in valor):
        return tuple(valor)
    raise Malformada("rooms must be strings")


def _objeto(valor: object) -> dict[str, Any]:
    if not isinstance(valor, dict):
        raise Malformada("not an object")
    return valor


def _objeto_json(dados: bytes) -> dict[str, Any]:
    try:
        return _objeto(json.loads(dados))
    except (ValueError, UnicodeDecodeError):
        raise Malformada("not JSON") from None


def decodificar_node_emit(dados: bytes) -> PedidoEmissor:
    try:
        # The caller bounded ``dados``; unpackb bounds every string, array and map by its length.
        envelope = msgpack.unpackb(dados, raw=False, strict_map_key=True, ext_hook=_ext, timestamp=3)
    except Malformada:
        raise
    except Exception as exc:  # msgpack's own errors, and anything it builds that is not hashable
        raise Malformada(f"not msgpack ({type(exc).__name__})") from None
    if not isinstance(envelope, list) or len(envelope) != 3:
        raise Malformada("not [uid, packet, opts]")
    packet, opts = _objeto(envelope[1]), _objeto(envelope[2])
    corpo = packet.get("data")
    if packet.get("type") != _EVENT or not isinstance(corpo, list) or not corpo:
        raise Malformada("not an EVENT packet")
    evento, nsp = corpo[0], packet.get("nsp")
    if not isinstance(evento, str) or not isinstance(nsp, str):
        raise Malformada("event and namespace must be strings")
    return PedidoEmissor(
        origem="node",
        tipo="emit",
        nsp=nsp,
        salas=_textos(opts.get("rooms")),
        exceto=_textos(opts.get("except")),
        evento=evento,
        args=tuple(_sem_datas(a) for a in corpo[1:]),
    )


def decodificar_node_pedido(dados: bytes, nsp: str) -> PedidoEmissor:
    envelope = _objeto_json(dados)
    tipo = _TIPOS_NODE.get(envelope.get("type"))  # type: ignore[arg-type]  # any value: .get is total
    if tipo is None:
        raise Malformada(f"request type {envelope.get('type')!r} is not join, leave or disconnect")
    opts = _objeto(envelope.get("opts"))
    return PedidoEmissor(
        origem="node",
        tipo=tipo,
        nsp=nsp,  # the request channel is per namespace; the message does not repeat it
        salas=_textos(opts.get("rooms")),
        exceto=_textos(opts.get("except")),
        salas_alvo=_textos(envelope.get("rooms")) if tipo != "disconnect" else (),
    )


def decodificar_python(dados: bytes) -> PedidoEmissor:
    envelope = _objeto_json(dados)
    if envelope.get("method") != "emit":
        raise Malformada(f"method {envelope.get('method')!r} is not emit")
    if envelope.get("binary") or envelope.get("callback") is not None:
        raise Malformada("binary payloads and callbacks are not accepted")
    evento, nsp, args = envelope.get("event"), envelope.get("namespace") or "/", envelope.get("data")
    if not isinstance(evento, str) or not isinstance(nsp, str) or not isinstance(args, list):
        raise Malformada("event, namespace and data are not what python-socketio sends")
    return PedidoEmissor(
        origem="python",
        tipo="emit",
        nsp=nsp,
        salas=_textos(envelope.get("room")),
        exceto_sids=_textos(envelope.get("skip_sid")),
        evento=evento,
        args=tuple(args),
    )


def _glob(texto: str) -> str:
    """``texto`` matched literally in a PSUBSCRIBE pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in texto)


class Emissores:
    """Subscribes to the emitters' channels named in the settings and hands what arrives to the gateway."""

    def __init__(
        self,
        link: RedisLink,
        receptor: ReceptorEmissores,
        *,
        nsp: str,
        ativos: frozenset[str],
        prefixo: str = "socket.io",
        canal_python: str = "socketio",
        max_bytes: int = 256 * 1024,
    ) -> None:
        self._link = link
        self._receptor = receptor
        self._nsp = nsp
        self._ativos = ativos
        self._prefixo = prefixo
        self._canal_python = canal_python
        self._max_bytes = max_bytes
        self._tarefas: set[asyncio.Task[None]] = set()
        self._janela = (0.0, 0, 0)  # start of the log window, lines in it, lines held back
        self.contagem: dict[tuple[str, str], int] = {}  # (emitter, outcome) → count, for tests

    def assinar(self) -> None:
        if "node" in self._ativos:
            emissao = f"{_glob(self._prefixo)}#{_glob(self._nsp)}#*"
            self._link.assinar_padrao(emissao, self._node_emit)
            self._link.assinar(f"{self._prefixo}-request#{self._nsp}#", self._node_pedido, classico=True)
        if "python" in self._ativos:
            self._link.assinar(self._canal_python, self._python, classico=True)

    # --- receiving ------------------------------------------------------------------------------

    def _node_emit(self, dados: bytes) -> None:
        self._receber("node", dados, lambda: decodificar_node_emit(dados))

    def _node_pedido(self, dados: bytes) -> None:
        self._receber("node", dados, lambda: decodificar_node_pedido(dados, self._nsp))

    def _python(self, dados: bytes) -> None:
        self._receber("python", dados, lambda: decodificar_python(dados))

    def _receber(self, origem: str, dados: bytes, decodificar: Any) -> None:
        if len(dados) > self._max_bytes:
            self._contar(origem, "grande", f"{len(dados)} bytes, over {self._max_bytes}")
            return
        try:
            pedido: PedidoEmissor = decodificar()
        except Malformada as exc:
            self._contar(origem, "malformada", str(exc))
            return
        try:
            resultado = self._receptor.aplicar(pedido)
        except Exception:
            log.exception("emitters: applying a %s request failed", origem)
            self._contar(origem, "erro", None)
            return
        if inspect.isawaitable(resultado):
            tarefa = asyncio.ensure_future(self._esperar(origem, pedido, resultado))
            self._tarefas.add(tarefa)
            tarefa.add_done_callback(self._tarefas.discard)
            return
        self._concluir(origem, pedido, resultado)

    async def _esperar(self, origem: str, pedido: PedidoEmissor, resultado: Awaitable[str | None]) -> None:
        try:
            self._concluir(origem, pedido, await resultado)
        except Exception:
            log.exception("emitters: applying a %s request failed", origem)
            self._contar(origem, "erro", None)

    def _concluir(self, origem: str, pedido: PedidoEmissor, recusa: str | None) -> None:
        if recusa is None:
            self._contar(origem, "aceito", None)
        else:
            self._contar(origem, recusa, f"{pedido.tipo} {pedido.evento or ''} {list(pedido.salas)[:4]}")

    def _contar(self, origem: str, resultado: str, detalhe: str | None) -> None:
        PEDIDOS.labels(origem, resultado).inc()
        chave = (origem, resultado)
        self.contagem[chave] = self.contagem.get(chave, 0) + 1
        if detalhe is not None:
            self._registrar(f"emitters: {origem} message refused ({resultado}): {detalhe}")

    def _registrar(self, linha: str) -> None:
        inicio, linhas, retidas = self._janela
        agora = time.monotonic()
        if agora - inicio >= INTERVALO_S:
            if retidas:
                log.warning("emitters: %d more refusals in the last %.0f s", retidas, INTERVALO_S)
            inicio, linhas, retidas = agora, 0, 0
        if linhas < LINHAS_POR_INTERVALO:
            log.warning("%s", linha[:300])
            linhas += 1
        else:
            retidas += 1
        self._janela = (inicio, linhas, retidas)

    async def parar(self) -> None:
        for tarefa in list(self._tarefas):
            tarefa.cancel()
        if self._tarefas:
            await asyncio.gather(*self._tarefas, return_exceptions=True)
