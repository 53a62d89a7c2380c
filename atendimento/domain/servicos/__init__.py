"""The use cases of the product: the one place that changes tickets and messages.

Every public method but ``autenticar`` takes the caller's tenant first (from the verified token),
runs in exactly one transaction scoped to it, and publishes its events only after the commit: a
write that fails publishes nothing, and a subscriber never hears of a row it cannot read yet.

One module per use case (login, atendentes, tickets, mensagens, notificacoes, usuarios: the
database as the authority on users; cadastro_usuarios and estrutura: provisioning; leitura: ticket
details and read state), all over the ports of
``base.ServicoBase``; ``ServicoAtendimento`` is all of them on one instance, which is what the
composition root builds and the gateway and the REST API call.
"""

from __future__ import annotations

from atendimento.domain.servicos.atendentes import CasosAtendentes
from atendimento.domain.servicos.cadastro_usuarios import CasosCadastroUsuarios
from atendimento.domain.servicos.canais_saida import CasosSaida
from atendimento.domain.servicos.estrutura import CasosEstrutura
from atendimento.domain.servicos.leitura import CasosLeitura
from atendimento.domain.servicos.login import CasosLogin
from atendimento.domain.servicos.mensagens import CasosMensagens
from atendimento.domain.servicos.notificacoes import CasosNotificacoes
from atendimento.domain.servicos.tickets import OMITIDO, CasosTickets
from atendimento.domain.servicos.usuarios import CasosUsuarios

__all__ = ["OMITIDO", "ServicoAtendimento"]


class ServicoAtendimento(
    CasosLogin,
    CasosAtendentes,
    CasosTickets,
    CasosMensagens,
    CasosNotificacoes,
    CasosUsuarios,
    CasosCadastroUsuarios,
    CasosEstrutura,
    CasosLeitura,
    CasosSaida,
):
    """Every use case, over one storage, one publisher and one password checker."""
