"""Wires the /atendimento namespace onto an engine server: the gateway's composition root."""

from __future__ import annotations

from dataclasses import dataclass

from limits.aio.storage import Storage

from atendimento.config import Settings
from atendimento.engine import Namespace, Server
from atendimento.gateway.conexao import Conexoes
from atendimento.gateway.eventos_cliente import EventosCliente, ServicoDoGateway
from atendimento.gateway.expiracao import AgendaExpiracao
from atendimento.gateway.limites import LimiteDigitando, LimitesEventos
from atendimento.gateway.presenca import PresencaLocal, RegistroPresenca
from atendimento.gateway.publicacao import Publicador
from atendimento.gateway.vagas import VagasPorEmpresa
from atendimento.identity.tokens import ServicoTokens

NAMESPACE = "/atendimento"


@dataclass(frozen=True)
class Gateway:
    namespace: Namespace
    publicador: Publicador  # the domain's PublicadorEventos
    presenca: RegistroPresenca  # also the REST side's ConsultaPresenca
    expiracoes: AgendaExpiracao

    async def fechar(self) -> None:
        self.expiracoes.fechar()
        await self.presenca.fechar()


def montar_gateway(
    server: Server,
    *,
    servico: ServicoDoGateway,
    tokens: ServicoTokens,
    settings: Settings,
    limiter_storage: Storage | None = None,
    presenca: RegistroPresenca | None = None,
) -> Gateway:
    """Register every handler of /atendimento on ``server``.

    ``limiter_storage`` and ``presenca`` default to in-process implementations; the cluster layer
    passes Redis-backed ones so limits and presence hold across instances.
    """
    ns = server.of(NAMESPACE)
    publicador = Publicador(ns)
    registro: RegistroPresenca = (
        presenca if presenca is not None else PresencaLocal(settings.presence_grace_seconds)
    )
    registro.ouvir(publicador)
    expiracoes = AgendaExpiracao()

    conexoes = Conexoes(tokens, settings.jwt_leeway_seconds, registro, expiracoes)
    ns.on_connect(conexoes.conectar)
    ns.on_disconnect(conexoes.desconectar)
    limites = LimitesEventos(
        limiter_storage,
        por_usuario=settings.event_rate_limits,
        por_empresa=settings.event_rate_limits_tenant,
    )
    vagas = VagasPorEmpresa(settings.events_per_tenant_at_once)
    EventosCliente(servico, publicador, LimiteDigitando(limiter_storage), limites, vagas).registrar(ns)
    return Gateway(namespace=ns, publicador=publicador, presenca=registro, expiracoes=expiracoes)
