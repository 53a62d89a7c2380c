"""``atendimento empresa|usuario|fila|canal criar``: set a company up without SQL.

Each command runs the same use case as the REST route (same validation, same argon2id hashing), as
the installation's operator (role ``admin`` of the tenant it names), on the application's database
URL: on PostgreSQL under row-level security like the server. The embedded SQLite database is
migrated first, as ``serve`` does. Each prints one JSON object: what was created. A user's password
is read from standard input with ``--senha-stdin``; otherwise one is generated and printed once (as
``senhaGerada``), and is never on the command line, where every local user could read it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from atendimento.cli.main import CommandError, settings_from_args
from atendimento.cli.preflight import run_async
from atendimento.config import e_postgres
from atendimento.domain.erros import ErroDominio
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import senhas_padrao
from atendimento.storage.banco import Storage
from atendimento.storage.migracoes import upgrade

# The CLI acts as the tenant's admin: whoever runs it holds the database's URL anyway.
ATOR = "admin"

Passo = Callable[[ServicoAtendimento], Awaitable[dict[str, Any]]]


async def _executar(args: argparse.Namespace, passo: Passo) -> dict[str, Any]:
    settings = settings_from_args(args)
    if not e_postgres(settings.effective_database_url):
        await upgrade(settings)
    storage = Storage.from_settings(settings)
    try:
        return await passo(ServicoAtendimento(storage, senhas=senhas_padrao()))
    except ErroDominio as exc:
        raise CommandError(f"{exc.message} ({exc.code})") from None
    finally:
        await storage.close()


def _rodar(args: argparse.Namespace, passo: Passo, what: str) -> int:
    url = settings_from_args(args).effective_database_url
    print(json.dumps(run_async(_executar(args, passo), what=what, url=url), ensure_ascii=False))
    return 0


def run_empresa(args: argparse.Namespace) -> int:
    async def passo(servico: ServicoAtendimento) -> dict[str, Any]:
        return {"id": await servico.criar_empresa(args.nome), "nome": args.nome.strip()}

    return _rodar(args, passo, "creating the empresa")


def _ler_senha() -> str:
    linha = sys.stdin.readline()
    if not linha:
        raise CommandError("--senha-stdin: nothing on standard input")
    return linha.rstrip("\r\n")


def run_usuario(args: argparse.Namespace) -> int:
    senha = _ler_senha() if args.senha_stdin else None

    async def passo(servico: ServicoAtendimento) -> dict[str, Any]:
        cadastro, gerada = await servico.criar_usuario(
            args.empresa,
            ATOR,
            nome=args.nome,
            email=args.email,
            role=args.role,
            senha=senha,
            capacidade=args.capacidade,
            fila_ids=args.fila or None,
        )
        dados = cadastro.para_evento()
        if gerada is not None:
            dados["senhaGerada"] = gerada
        return dados

    return _rodar(args, passo, "creating the usuario")


def run_fila(args: argparse.Namespace) -> int:
    async def passo(servico: ServicoAtendimento) -> dict[str, Any]:
        fila = await servico.criar_fila(args.empresa, ATOR, nome=args.nome, distribuicao=args.distribuicao)
        return fila.para_evento()

    return _rodar(args, passo, "creating the fila")


def run_canal(args: argparse.Namespace) -> int:
    async def passo(servico: ServicoAtendimento) -> dict[str, Any]:
        canal = await servico.criar_canal(
            args.empresa, ATOR, nome=args.nome, tipo=args.tipo, fila_id=args.fila
        )
        return canal.para_evento()

    return _rodar(args, passo, "creating the canal")


def add_commands(commands: Any, add_settings_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """The four ``criar`` commands under ``empresa``, ``usuario``, ``fila`` and ``canal``."""

    def grupo(nome: str, ajuda: str) -> argparse.ArgumentParser:
        p = commands.add_parser(nome, help=ajuda, description=ajuda)
        sub = p.add_subparsers(dest=f"{nome}_command", required=True, metavar="ACTION")
        criar: argparse.ArgumentParser = sub.add_parser("criar", help=f"create a {nome}", description=ajuda)
        add_settings_flags(criar)
        return criar

    p = grupo("empresa", "create a company (tenant); prints its id")
    p.add_argument("--nome", required=True, help="the company's name")
    p.set_defaults(run=run_empresa)

    p = grupo("usuario", "create a user of a company; the password from stdin or generated and printed once")
    p.add_argument("--empresa", required=True, help="the company's id")
    p.add_argument("--nome", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, help="admin, gestor, supervisor, atendente or integracao")
    p.add_argument("--capacidade", type=int, help="open tickets routing gives at once (default 5)")
    p.add_argument("--fila", action="append", default=[], help="a fila it serves (repeat for more)")
    p.add_argument(
        "--senha-stdin",
        action="store_true",
        help="read the password (10+ characters) from the first line of stdin; without it one is generated",
    )
    p.set_defaults(run=run_usuario)

    p = grupo("fila", "create a queue of a company")
    p.add_argument("--empresa", required=True, help="the company's id")
    p.add_argument("--nome", required=True)
    p.add_argument("--distribuicao", default="manual", help="manual (default) or automatica")
    p.set_defaults(run=run_fila)

    p = grupo("canal", "create a channel of a company; its new tickets go to --fila")
    p.add_argument("--empresa", required=True, help="the company's id")
    p.add_argument("--nome", required=True)
    p.add_argument("--tipo", required=True, help="whatsapp, email, webchat, telefone or outro")
    p.add_argument("--fila", required=True, help="the fila of the channel's new tickets")
    p.set_defaults(run=run_canal)
