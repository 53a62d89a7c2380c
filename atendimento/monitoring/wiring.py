"""``build_monitoring``: what the composition root calls to add metrics and, when configured, /admin.

The meaning of a socket comes in as callables (``descrever``, ``empresa_de``): app.py builds them from
the gateway's session, so this package depends on the engine only. ``namespace`` (the gateway's, whose
sockets are counted) comes in the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from atendimento.config import Settings
from atendimento.engine import Server
from atendimento.identity.passwords import senhas_padrao
from atendimento.monitoring.admin import AdminUI
from atendimento.monitoring.metricas_empresa import ContagemEscritas, EmpresaDe, MetricasEmpresa
from atendimento.monitoring.serializacao import Descrever

log = logging.getLogger(__name__)

CAMINHO_ADMIN_UI = "/admin-ui"


@dataclass
class Monitoramento:
    metricas: MetricasEmpresa
    admin: AdminUI | None
    settings: Settings

    async def start(self) -> None:
        await self.metricas.start()
        if self.admin is not None:
            await self.admin.start()

    async def stop(self) -> None:
        if self.admin is not None:
            await self.admin.stop()
        await self.metricas.stop()

    def instalar_na_api(self, api: FastAPI) -> None:
        """REST write counts, and the Admin UI's files at /admin-ui/ when asked for and installed."""
        api.add_middleware(ContagemEscritas, metricas=self.metricas)
        if not self.settings.admin_ui:
            return
        pasta = self.settings.admin_ui_dir
        if not (pasta / "index.html").is_file():
            log.warning("admin UI: no built UI at %s (run `make admin-ui`); /admin-ui/ is off", pasta)
            return
        api.mount(CAMINHO_ADMIN_UI, StaticFiles(directory=pasta, html=True), name="admin-ui")
        if self.admin is None:
            log.warning(
                "admin UI served, but /admin is off: set ATENDIMENTO_ADMIN_USERNAME and _PASSWORD_HASH"
            )


def build_monitoring(
    server: Server,
    settings: Settings,
    *,
    namespace: str,
    descrever: Descrever,
    empresa_de: EmpresaDe,
    server_id: str | None = None,
    redis_ok: Callable[[], bool | None] | None = None,
) -> Monitoramento:
    metricas = MetricasEmpresa(server, namespace, empresa_de, settings.metrics_max_empresas)
    if redis_ok is not None:
        metricas.redis_ok = redis_ok
    server.add_monitor(metricas)
    admin = None
    if settings.admin_username and settings.admin_password_hash:
        admin = AdminUI(
            server,
            usuario=settings.admin_username,
            senha_hash=settings.admin_password_hash,
            descrever=descrever,
            senhas=senhas_padrao(),
            server_id=server_id,
        )
    return Monitoramento(metricas=metricas, admin=admin, settings=settings)
