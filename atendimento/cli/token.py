"""``atendimento token EMAIL``: a development token for a user of the database."""

from __future__ import annotations

import argparse
import asyncio

from atendimento.cli.main import CommandError, settings_from_args
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.banco import Storage


async def _usuario(settings_args: argparse.Namespace, email: str) -> tuple[str, str, str, str]:
    settings = settings_from_args(settings_args)
    storage = Storage.from_settings(settings)
    try:
        encontrado = await storage.buscar_login(email)
    finally:
        await storage.close()
    if encontrado is None:
        raise CommandError(f"no user with e-mail {email} (load the demo data with `atendimento demo`)")
    usuario, _hash = encontrado
    return usuario.id, usuario.empresa_id, usuario.role, usuario.nome


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if "HS256" not in settings.jwt_algorithms:
        raise CommandError("token mints HS256 tokens; HS256 is not among the configured jwt_algorithms")
    usuario_id, empresa_id, role, nome = asyncio.run(_usuario(args, args.email))
    tokens = ServicoTokens.from_settings(settings)
    print(tokens.emitir(usuario_id, empresa_id, role, nome, ttl_seconds=args.ttl))
    return 0
