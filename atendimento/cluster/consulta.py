"""A request/response over Redis: every instance's sockets, for the Admin UI's first list.

Broadcasts between instances are fire-and-forget (adapter.py); listing sockets needs an answer from
each instance. The asking instance publishes ``{"v": 1, "id", "de"}`` on ``atendimento:admin:pedido``;
every other instance answers on the asker's own channel ``atendimento:admin:resposta:{instancia}``
with ``{"v": 1, "id", "de", "sockets": [...]}`` (its sockets, already redacted by whoever serialises
them). The asker knows how many answers to expect from ``PUBSUB SHARDNUMSUB`` of the request channel (the
instances subscribed to it, itself included) and waits for them for at most ``prazo_s``: an instance
that is slow or gone costs the wait once, and its sockets are simply missing from that list (the UI
still hears of its later connects through the broadcast channel). With Redis away it answers at
once with nothing. Malformed or foreign messages are ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from atendimento.cluster.envelopes import PREFIXO
from atendimento.cluster.redis_link import RedisLink
from atendimento.cluster.topologia import ERROS_REDIS

log = logging.getLogger(__name__)

_FALHAS: tuple[type[BaseException], ...] = (*ERROS_REDIS, TimeoutError, ValueError)
REQUEST_CHANNEL = f"{PREFIXO}:admin:pedido"
PRAZO_S = 1.0
VERSAO = 1

Listar = Callable[[], list[dict[str, Any]]]


def reply_channel(instancia: str) -> str:
    return f"{PREFIXO}:admin:resposta:{instancia}"


class ConsultaSockets:
    def __init__(
        self, link: RedisLink, instancia: str, listar_locais: Listar, prazo_s: float = PRAZO_S
    ) -> None:
        self._link = link
        self._instancia = instancia
        self._listar = listar_locais
        self._prazo = prazo_s
        self._pendentes: dict[str, tuple[asyncio.Queue[list[dict[str, Any]]], set[str]]] = {}
        link.assinar(REQUEST_CHANNEL, self._pedido)
        link.assinar(reply_channel(instancia), self._resposta)

    async def listar(self) -> list[dict[str, Any]]:
        """The sockets of every other instance that answers within the deadline."""
        if not self._link.disponivel:
            return []
        try:
            inscritos = await asyncio.wait_for(self._link.contar_assinantes(REQUEST_CHANNEL), self._prazo)
        except _FALHAS as exc:
            log.warning("cluster: counting the instances failed: %r", exc)
            return []
        esperadas = int(inscritos) - 1
        if esperadas <= 0:
            return []
        pedido = secrets.token_hex(8)
        fila: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self._pendentes[pedido] = (fila, set())
        sockets: list[dict[str, Any]] = []
        try:
            corpo = {"v": VERSAO, "id": pedido, "de": self._instancia}
            if not self._link.publicar(REQUEST_CHANNEL, json.dumps(corpo).encode()):
                return []
            async with asyncio.timeout(self._prazo):
                for _ in range(esperadas):
                    sockets.extend(await fila.get())
        except TimeoutError:
            log.info(
                "cluster: %d of %d instances answered the socket list in time",
                len(self._pendentes[pedido][1]),
                esperadas,
            )
        finally:
            del self._pendentes[pedido]
        return sockets

    def _pedido(self, dados: bytes) -> None:
        envelope = _ler(dados)
        if envelope is None or envelope["de"] == self._instancia:
            return
        resposta = {"v": VERSAO, "id": envelope["id"], "de": self._instancia, "sockets": self._listar()}
        self._link.publicar(reply_channel(envelope["de"]), json.dumps(resposta).encode())

    def _resposta(self, dados: bytes) -> None:
        envelope = _ler(dados)
        if envelope is None or not isinstance(envelope.get("sockets"), list):
            return
        pendente = self._pendentes.get(envelope["id"])
        if pendente is None:
            return  # too late, or not ours
        fila, vindas = pendente
        if envelope["de"] in vindas:
            return
        vindas.add(envelope["de"])
        fila.put_nowait([s for s in envelope["sockets"] if isinstance(s, dict)])


def _ler(dados: bytes) -> dict[str, Any] | None:
    try:
        envelope = json.loads(dados)
    except ValueError:
        return None
    if (
        not isinstance(envelope, dict)
        or envelope.get("v") != VERSAO
        or not isinstance(envelope.get("id"), str)
        or not isinstance(envelope.get("de"), str)
    ):
        return None
    return envelope
