"""Which channel an emit travels on, and which tenants' channels this instance holds.

Fan-out is partitioned by tenant: an emit whose rooms all belong to one tenant goes on that tenant's
sharded channel (``envelopes.canal_empresa``), and an instance subscribes to it only while it has a
reason to read it: a socket of that tenant, or a saved session of that tenant a reconnect may ask for
(recovery hand-over). So an instance reads only the traffic of the tenants it serves, and with Redis
Cluster each tenant's traffic stays on the shard its slot belongs to.

Everything else (an emit to the whole namespace, to rooms no tenant owns, to several tenants at once)
goes on the namespace's instance-wide channel, which every instance reads. The room → tenant rule is
the gateway's (it names the rooms); the composition root passes it in, so this module stays ignorant of
room names: ``EmpresaDaSala``, ``None`` for a room of no tenant.

A tenant's channel is released a short grace after its last reason went away, so a reload (or a burst
of reconnects) does not SUNSUBSCRIBE and SSUBSCRIBE again in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from atendimento.cluster.redis_link import Receptor, RedisLink

EmpresaDaSala = Callable[[str], str | None]

GRACA_S = 5.0


def empresa_do_alvo(rooms: Iterable[str], empresa_da_sala: EmpresaDaSala | None) -> str | None:
    """The one tenant every room of ``rooms`` belongs to; None when there is none, or several, or a
    room of no tenant (the emit then goes on the instance-wide channel)."""
    if empresa_da_sala is None:
        return None
    empresa: str | None = None
    for room in rooms:
        dela = empresa_da_sala(room)
        if dela is None or (empresa is not None and dela != empresa):
            return None
        empresa = dela
    return empresa


class EmpresasAssinadas:
    """Reference counts per tenant (sockets here, held sessions), and the subscriptions they imply."""

    def __init__(
        self,
        link: RedisLink,
        canal: Callable[[str], str],
        receptor: Receptor,
        *,
        graca_s: float = GRACA_S,
    ) -> None:
        self._link = link
        self._canal = canal
        self._receptor = receptor
        self._graca_s = graca_s
        self._contagem: dict[str, int] = {}
        self._soltar: dict[str, asyncio.TimerHandle] = {}

    def __contains__(self, empresa: str) -> bool:
        return empresa in self._contagem

    def canal(self, empresa: str) -> str:
        return self._canal(empresa)

    def entrou(self, empresa: str) -> None:
        contagem = self._contagem.get(empresa, 0)
        self._contagem[empresa] = contagem + 1
        if contagem == 0:
            pendente = self._soltar.pop(empresa, None)
            if pendente is not None:
                pendente.cancel()  # back within the grace: still subscribed
            elif not self._link.assinando(self._canal(empresa)):
                self._link.assinar(self._canal(empresa), self._receptor)

    def saiu(self, empresa: str) -> None:
        contagem = self._contagem.get(empresa, 0) - 1
        if contagem > 0:
            self._contagem[empresa] = contagem
            return
        self._contagem.pop(empresa, None)
        if contagem == 0 and empresa not in self._soltar:
            self._soltar[empresa] = asyncio.get_running_loop().call_later(
                self._graca_s, self._liberar, empresa
            )

    def reter(self, empresa: str, segundos: float) -> None:
        """Hold ``empresa``'s channel for ``segundos`` (a saved session, a hand-over in progress)."""
        self.entrou(empresa)
        asyncio.get_running_loop().call_later(segundos, self.saiu, empresa)

    def _liberar(self, empresa: str) -> None:
        self._soltar.pop(empresa, None)
        if empresa not in self._contagem:
            self._link.liberar(self._canal(empresa))

    def fechar(self) -> None:
        for pendente in self._soltar.values():
            pendente.cancel()
        self._soltar.clear()
