"""``atendimento admin-hash``: prompt for the Admin UI's password (twice) and print its argon2id hash.

The hash goes in ``ATENDIMENTO_ADMIN_PASSWORD_HASH``; the password itself is never stored anywhere.
"""

from __future__ import annotations

import argparse
import getpass

from atendimento.cli.main import CommandError
from atendimento.identity.passwords import senhas_padrao

MIN_CARACTERES = 12


def run(args: argparse.Namespace) -> int:
    senha = getpass.getpass("Admin UI password: ")
    if len(senha) < MIN_CARACTERES:
        raise CommandError(f"the password must have at least {MIN_CARACTERES} characters")
    if getpass.getpass("Again: ") != senha:
        raise CommandError("the two passwords differ; nothing printed")
    print(senhas_padrao().hash(senha))
    return 0
