"""``usuario_alterado`` across instances: the gateway's ``DifusaoUsuarios`` over Redis pub/sub.

An announcement reaches this instance's listeners at once (the change was made here, so its own
cache and sockets must not wait for a round trip through Redis), and is published on
``canal_usuarios()`` for the others, which hand it to their listeners when it arrives (their own
message, echoed back by Redis, is ignored). While Redis is away the others miss it: their cached
record then lives until its TTL (``ATENDIMENTO_USUARIOS_CACHE_SECONDS``), the safety net.
"""

from __future__ import annotations

import logging

from atendimento.cluster import envelopes
from atendimento.cluster.redis_link import RedisLink
from atendimento.gateway.portas import DifusaoLocal, OuvinteUsuarios

log = logging.getLogger(__name__)


class DifusaoUsuariosRedis:
    def __init__(self, link: RedisLink, instancia: str) -> None:
        self._link = link
        self._instancia = instancia
        self._local = DifusaoLocal()
        self.invalidas = 0
        link.assinar(envelopes.canal_usuarios(), self._receber)

    def ouvir(self, ouvinte: OuvinteUsuarios) -> None:
        self._local.ouvir(ouvinte)

    def anunciar(self, empresa_id: str, usuario_id: str) -> None:
        self._local.anunciar(empresa_id, usuario_id)
        envelope = envelopes.UsuarioAlterado(
            instance=self._instancia, empresa_id=empresa_id, usuario_id=usuario_id
        )
        if not self._link.publicar(envelopes.canal_usuarios(), envelopes.codificar(envelope)):
            log.warning("usuario_alterado for %s not shared: Redis unavailable", usuario_id)

    def _receber(self, dados: bytes) -> None:
        try:
            envelope = envelopes.decodificar_usuario(dados)
        except envelopes.InvalidEnvelope as exc:
            self.invalidas += 1
            log.warning("cluster: usuario_alterado dropped (%s)", exc.motivo)
            return
        if envelope.instance == self._instancia:
            return  # ours: the listeners here heard it when it was announced
        self._local.anunciar(envelope.empresa_id, envelope.usuario_id)
