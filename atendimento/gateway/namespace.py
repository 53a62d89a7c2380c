"""Wires the /atendimento namespace onto an engine server: the gateway's composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from limits.aio.storage import Storage

from atendimento.config import Settings
from atendimento.engine import Namespace, Socket
from atendimento.gateway.chegada import OuvinteChegada
from atendimento.gateway.conexao import Conexoes, ConfirmaUsuario, expirar
from atendimento.gateway.eventos_cliente import EventosCliente, ObservadorEventos, ServicoDoGateway
from atendimento.gateway.expiracao import AgendaExpiracao
from atendimento.gateway.presenca import PresencaLocal, RegistroPresenca
from atendimento.gateway.presenca_lote import PresencaLote
from atendimento.gateway.publicacao import Publicador
from atendimento.gateway.rate_limits import LimiteDigitando, LimitesEventos
from atendimento.gateway.renovacao import Renovacao
from atendimento.gateway.revisao_usuarios import RevisaoUsuarios, ServicoUsuarios
from atendimento.gateway.vagas import VagasPorEmpresa
from atendimento.gateway.visualizando import RegistroLocal, RegistroVisualizando, Visualizando
from atendimento.identity.tokens import ServicoTokens

NAMESPACE = "/atendimento"


class ServicoCompleto(ServicoDoGateway, ConfirmaUsuario, ServicoUsuarios, Protocol):
    """What the gateway needs of the domain: the client events' use cases and the users' records."""


@dataclass(frozen=True)
class Gateway:
    namespace: Namespace
    publicador: Publicador  # the domain's PublicadorEventos
    presenca: RegistroPresenca  # also the REST side's ConsultaPresenca
    expiracoes: AgendaExpiracao[Socket]
    visualizando: Visualizando
    renovacao: Renovacao | None = None
    revisao: RevisaoUsuarios | None = None
    lote: PresencaLote | None = None

    async def fechar(self) -> None:
        self.expiracoes.fechar()
        if self.lote is not None:
            self.lote.fechar()
        if self.revisao is not None:
            await self.revisao.fechar()
        if self.renovacao is not None:
            self.renovacao.fechar()
        await self.presenca.fechar()
        await self.visualizando.fechar()


def build_gateway(
    publicador: Publicador,
    *,
    servico: ServicoCompleto,
    tokens: ServicoTokens,
    settings: Settings,
    limiter_storage: Storage | None = None,
    presenca: RegistroPresenca | None = None,
    observador: ObservadorEventos | None = None,
    visualizando: RegistroVisualizando | None = None,
) -> Gateway:
    """Register every handler of /atendimento on the namespace ``publicador`` publishes to.

    The publisher comes first, built on ``server.of(NAMESPACE)`` by the composition root, because the
    domain service the handlers call publishes through it: both exist before the handlers do.

    ``limiter_storage``, ``presenca`` and ``visualizando`` default to in-process implementations; the
    cluster layer passes Redis-backed ones so limits, presence and viewers hold across instances.
    ``observador`` is told the ack of every client event (per-tenant metrics).
    """
    ns = publicador.namespace
    registro: RegistroPresenca = (
        presenca if presenca is not None else PresencaLocal(settings.presence_grace_seconds)
    )
    registro.ouvir(OuvinteChegada(publicador, servico))
    expiracoes: AgendaExpiracao[Socket] = AgendaExpiracao(expirar)

    # A user's record changed (here or on another instance): drop it, re-check its sockets here.
    revisao = RevisaoUsuarios(servico, ns)
    publicador.usuarios.ouvir(revisao.alterado)
    lote = _presenca_lote(ns, servico, registro)
    conexoes = Conexoes(
        tokens,
        settings.jwt_leeway_seconds,
        registro,
        expiracoes,
        servico,
        mudancas=revisao.mudancas,
        lote=lote,
    )
    quem_ve = Visualizando(publicador, visualizando if visualizando is not None else RegistroLocal())
    # auth:renovar moves the same expiry; auth:expirando is armed once a connection is accepted.
    renovacao = Renovacao(tokens, settings.jwt_leeway_seconds, expiracoes, limiter_storage, usuarios=servico)
    sair = renovacao.ao_desconectar(conexoes.desconectar)

    async def desconectar(socket: Socket, reason: str) -> None:
        try:
            await sair(socket, reason)
        finally:
            await quem_ve.desconectou(socket)

    aceitar = renovacao.ao_conectar(conexoes.conectar)

    async def conectar(socket: Socket, auth: object) -> None:
        await aceitar(socket, auth)
        if socket.recovered:
            quem_ve.restaurado(socket)

    ns.on_connect(conectar)
    ns.on_disconnect(desconectar)
    limites = LimitesEventos(
        limiter_storage,
        por_usuario=settings.event_rate_limits,
        por_empresa=settings.event_rate_limits_tenant,
    )
    vagas = VagasPorEmpresa(settings.events_per_tenant_at_once)
    digitando = LimiteDigitando(limiter_storage)
    EventosCliente(
        servico, publicador, digitando, observador, quem_ve, limites=limites, vagas=vagas
    ).registrar(ns, {"auth:renovar": renovacao.renovar})
    return Gateway(
        namespace=ns,
        publicador=publicador,
        presenca=registro,
        expiracoes=expiracoes,
        visualizando=quem_ve,
        renovacao=renovacao,
        revisao=revisao,
        lote=lote,
    )


def _presenca_lote(ns: Namespace, servico: object, registro: RegistroPresenca) -> PresencaLote | None:
    """Batched presence, when the service can list a tenant's atendentes (the domain's does)."""
    listar = getattr(servico, "listar_atendentes", None)
    if listar is None:
        return None

    async def carregar(empresa_id: str) -> list[dict[str, Any]]:
        atendentes = await listar(empresa_id)
        online = await registro.online(empresa_id)
        return [
            {
                "atendenteId": a.id,
                "atendenteNome": a.nome,
                "online": a.id in online,
                "status": a.status_atendimento,
            }
            for a in atendentes
        ]

    return PresencaLote(ns, carregar)
