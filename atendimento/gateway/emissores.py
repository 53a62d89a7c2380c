"""What the CRM's other services publish through Redis, under the contract's rules (docs/emitters.md).

The cluster decodes each emitter's wire into a ``PedidoEmissor``; this module decides, for this
instance's sockets only (every instance receives the same message and delivers to its own, so nothing
is re-published):

- the namespace is ``/atendimento``; the event one of the contract's server → client events;
- every room is one of the contract's forms (``user:{id}``, ``empresa:{e}``, ``empresa:{e}:atendentes``,
  ``ticket:{id}``), translated to the gateway's own names (``salas``), its tenant resolved from this
  instance's sockets (``emissores_indice``); an emit with no room (the whole namespace: every
  tenant) is refused, and so is one with several rooms unless they all name one tenant
  (``empresa:{e}``, ``empresa:{e}:atendentes``), since every instance must answer alike;
- an accepted emit goes through ``adapter.broadcast_local`` exactly as a broadcast from another
  instance does: one encoding, a recovery offset, the per-tenant metrics' monitor hook;
- ``socketsJoin``/``socketsLeave``: only ``ticket:{id}`` rooms, and a join only of a ticket of the
  target sockets' own tenant (checked in the database as ``ticket:entrar`` does; the identity rooms,
  user, tenant and atendentes, come from the token and never change by request);
  ``disconnectSockets``: the target's sockets get a server-side disconnect.

A refusal is answered as a short reason, which the cluster counts and logs (rate-limited).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable

from atendimento.engine import EventPacket, Namespace, Target
from atendimento.gateway import salas
from atendimento.gateway.emissores_indice import IndiceEmpresas
from atendimento.gateway.eventos_cliente import ServicoDoGateway
from atendimento.gateway.portas import PedidoEmissor

# The contract's "Server → client" table: what an emitter may publish, and nothing else (a client must
# never receive an event name the contract does not give it, nor one the gateway keeps for itself).
EVENTOS_PERMITIDOS = frozenset(
    {
        "mensagem:nova",
        "mensagem:nao-atribuida",
        "ticket:novo",
        "ticket:atualizado",
        "ticket:status",
        "ticket:atribuido",
        "atendente:online",
        "atendente:offline",
        "atendente:status",
        "notificacao",
    }
)
MAX_SALA = 256
MAX_SALAS = 64
MAX_PROFUNDIDADE = 32  # as the engine bounds a client's payload (protocol.socketio.MAX_DEPTH)
_ATENDENTES = ":atendentes"

# A room as the emitter named it → (the gateway's room name, the tenants it may belong to here).
Resolvida = tuple[str, set[str]]


def _valido(valor: object, profundidade: int = 0) -> bool:
    """JSON-able (binary allowed) with string keys, finite numbers, bounded nesting: what the engine can
    encode. Checked before delivering, since a broadcast takes its recovery offset before encoding."""
    if valor is None or isinstance(valor, str | bool | int | bytes):
        return True
    if isinstance(valor, float):
        return math.isfinite(valor)
    if profundidade >= MAX_PROFUNDIDADE:
        return False
    if isinstance(valor, list | tuple):
        return all(_valido(v, profundidade + 1) for v in valor)
    if isinstance(valor, dict):
        return all(isinstance(k, str) and _valido(v, profundidade + 1) for k, v in valor.items())
    return False


def _empresa_nomeada(sala: object) -> str | None:
    """The tenant an ``empresa:{e}`` or ``empresa:{e}:atendentes`` room names; None for any other."""
    if not isinstance(sala, str) or not sala.startswith("empresa:") or len(sala) <= 8:
        return None
    resto = sala[8:]
    if resto.endswith(_ATENDENTES) and len(resto) > len(_ATENDENTES):
        return resto[: -len(_ATENDENTES)]
    return resto


class ReceptorGateway:
    """Implements ``gateway.portas.ReceptorEmissores`` on the ``/atendimento`` namespace."""

    def __init__(self, namespace: Namespace, indice: IndiceEmpresas, servico: ServicoDoGateway) -> None:
        self._ns = namespace
        self._indice = indice
        self._servico = servico

    # --- rooms ---------------------------------------------------------------------------------

    def _resolver(self, sala: object) -> Resolvida | None:
        """None: not one of the contract's forms."""
        if not isinstance(sala, str) or not sala or len(sala) > MAX_SALA:
            return None
        indice = self._indice
        if sala.startswith("user:") and len(sala) > 5:
            usuario = sala[5:]
            empresas = indice.usuarios.empresas(usuario)
            if len(empresas) == 1:
                return salas.usuario(next(iter(empresas)), usuario), empresas
            return "", empresas  # none here (nothing to resolve), or ambiguous (refused by the caller)
        if sala.startswith("ticket:") and len(sala) > 7:
            # The room is under its tenant (salas.ticket), as the user's: found as the user's is.
            ticket_id = sala[7:]
            empresas = indice.tickets.empresas(ticket_id)
            if len(empresas) == 1:
                return salas.ticket(next(iter(empresas)), ticket_id), empresas
            return "", empresas
        if sala.startswith("empresa:") and len(sala) > 8:
            resto = sala[8:]
            if resto.endswith(_ATENDENTES) and len(resto) > len(_ATENDENTES):
                empresa = resto[: -len(_ATENDENTES)]
                return salas.atendentes(empresa), indice.empresas.empresas(empresa)
            return salas.empresa(resto), indice.empresas.empresas(resto)
        return None

    def _alvo(self, pedido: PedidoEmissor) -> tuple[Target, str] | str | None:
        """The sockets of this instance a request reaches and their tenant; a refusal's reason; or None
        when none of its rooms has a socket of this instance (nothing to do here)."""
        if not pedido.salas:
            return "sem_sala"  # the whole namespace: every tenant
        if len(pedido.salas) + len(pedido.exceto) > MAX_SALAS:
            return "sala"
        nomeadas = {_empresa_nomeada(s) for s in pedido.salas}
        if len(pedido.salas) > 1 and (None in nomeadas or len(nomeadas) != 1):
            # Several rooms only of one tenant named in them: whether two user or ticket rooms share a
            # tenant, an instance can only tell from its own sockets, and another instance seeing
            # other sockets would answer otherwise: the same emit would reach two tenants there.
            return "varias_salas"
        nomes: set[str] = set()
        empresas: set[str] = set()
        for sala in pedido.salas:
            resolvida = self._resolver(sala)
            if resolvida is None:
                return "sala"
            nome, delas = resolvida
            if len(delas) > 1:
                return "ambigua"  # the same id in two tenants: never both
            if delas and nome:
                nomes.add(nome)
                empresas |= delas
        for sala in pedido.exceto:
            if self._resolver(sala) is None:
                return "sala"
        if len(empresas) > 1:
            return "varias_empresas"
        if not nomes:
            return None
        empresa = next(iter(empresas))
        exceto: set[str] = set()
        for sala in pedido.exceto:
            if sala.startswith("user:"):
                exceto.add(salas.usuario(empresa, sala[5:]))  # the user of this tenant
            else:
                resolvida = self._resolver(sala)
                if resolvida is not None and resolvida[0]:
                    exceto.add(resolvida[0])
        alvo = Target(frozenset(nomes), frozenset(exceto), frozenset(pedido.exceto_sids))
        return alvo, empresa

    # --- requests ------------------------------------------------------------------------------

    def aplicar(self, pedido: PedidoEmissor) -> str | Awaitable[str | None] | None:
        if pedido.nsp != self._ns.name:
            return "namespace"
        if pedido.tipo == "emit":
            if pedido.evento not in EVENTOS_PERMITIDOS:
                return "evento"
            if not _valido(pedido.args):
                return "malformada"
        elif pedido.tipo in ("join", "leave"):
            if not pedido.salas_alvo or len(pedido.salas_alvo) > MAX_SALAS:
                return "sala_alvo"
            if any(not isinstance(s, str) or salas.ticket_do_contrato(s) is None for s in pedido.salas_alvo):
                return "sala_alvo"  # only ticket rooms: the identity rooms come from the token
        elif pedido.tipo != "disconnect":
            return "tipo"
        alvo = self._alvo(pedido)
        if alvo is None or isinstance(alvo, str):
            return alvo
        target, empresa = alvo
        adapter = self._ns.adapter
        if pedido.tipo == "emit":
            adapter.broadcast_local(EventPacket(self._ns.name, pedido.evento, pedido.args), target)
        elif pedido.tipo == "disconnect":
            adapter.disconnect_sockets_local(target)  # a server-side disconnect, as the reference does
        elif pedido.tipo == "leave":
            internas = {salas.ticket(empresa, salas.ticket_do_contrato(s) or "") for s in pedido.salas_alvo}
            adapter.sockets_leave_local(internas, target)
        else:
            return self._juntar(pedido.salas_alvo, target, empresa)
        return None

    async def _juntar(self, salas_alvo: tuple[str, ...], target: Target, empresa: str) -> str | None:
        internas = set()
        for sala in salas_alvo:
            ticket_id = salas.ticket_do_contrato(sala)
            # Unknown ticket and another tenant's alike: refused (checked as ticket:entrar checks it).
            if ticket_id is None or not await self._servico.ticket_existe(empresa, ticket_id):
                return "sala_alvo"
            internas.add(salas.ticket(empresa, ticket_id))  # the room under its tenant, as ticket:entrar's
        self._ns.adapter.sockets_join_local(internas, target)
        return None
