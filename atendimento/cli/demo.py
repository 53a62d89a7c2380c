"""``atendimento demo``: the contract's demo data in an empty database (migrated first)."""

from __future__ import annotations

import argparse

from atendimento.cli.main import settings_from_args
from atendimento.cli.preflight import run_async
from atendimento.storage.demo import carregar_demo


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    url = settings.effective_admin_database_url
    run_async(carregar_demo(settings), what="loading the demo data", url=url)
    print("atendimento: demo data loaded: Empresa Demo (admin@, gestor@, ana@, bruno@, vendas@, integracao@")
    print("             demo.local) and Outra Empresa (carla@outra.local); every password is demo-senha")
    return 0
