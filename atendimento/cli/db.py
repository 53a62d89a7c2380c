"""``atendimento db upgrade``: apply the migrations."""

from __future__ import annotations

import argparse

from atendimento.cli.main import settings_from_args
from atendimento.cli.preflight import redact, run_async
from atendimento.storage.migracoes import upgrade


def run_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    run_async(upgrade(settings), what="migrating the database", url=settings.effective_admin_database_url)
    print(f"atendimento: database at head ({redact(settings.effective_admin_database_url)})")
    return 0
