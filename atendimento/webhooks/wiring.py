"""``build_relay``: the relay from the settings, its storage and the use cases it reports to."""

from __future__ import annotations

from atendimento.config import Settings
from atendimento.domain.saida import ConfigSaida
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.storage.banco import Storage
from atendimento.storage.saida_relay import FilaSaida
from atendimento.webhooks.cliente_http import ClienteWebhook
from atendimento.webhooks.metricas import MetricasWebhooks
from atendimento.webhooks.relay import ConfigRelay, Relay


def config_relay(settings: Settings) -> ConfigRelay:
    return ConfigRelay(
        agenda=list(settings.webhook_retry_schedule),
        timeout_s=settings.webhook_timeout_seconds,
        desativar_apos_s=settings.webhook_disable_after_seconds,
        concorrencia=settings.webhook_concurrency,
        por_endpoint=settings.webhook_concurrency_per_endpoint,
        poll_s=settings.webhook_poll_seconds,
    )


def build_relay(settings: Settings, storage: Storage, servico: ServicoAtendimento) -> Relay:
    cliente = ClienteWebhook(
        timeout_s=settings.webhook_timeout_seconds,
        conexoes=settings.webhook_concurrency,
        permitir_privados=settings.webhook_allow_private,
    )
    relay = Relay(
        FilaSaida(storage),
        cliente,
        config_relay(settings),
        metricas=MetricasWebhooks(settings.metrics_max_empresas),
        # Looked up when called: a test may hand build_app a stand-in service without them.
        ao_falhar=lambda *a: servico.marcar_entrega_falhou(*a),
        ao_desativar=lambda *a: servico.avisar_webhook_desativado(*a),
    )
    # The use cases wake it once an outbox row is committed in this process.
    saida = getattr(servico, "saida", None)
    if isinstance(saida, ConfigSaida):
        saida.avisar = relay.acordar
    return relay
