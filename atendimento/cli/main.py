"""The ``atendimento`` command: serve, db upgrade, demo, token.

argparse rather than a CLI library: four subcommands with a handful of flags need nothing more,
and each flag maps one to one onto a setting of ``atendimento.config.Settings``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from atendimento.config import Settings, SettingsError, load_settings


class CommandError(Exception):
    """A failure the operator can act on: printed as one line, exit status 2, no traceback."""


def _add_settings_flags(parser: argparse.ArgumentParser, *, server: bool) -> None:
    group = parser.add_argument_group("settings (each also from its ATENDIMENTO_* environment variable)")
    group.add_argument("--data-dir", help="folder of the embedded database and secret (ATENDIMENTO_DATA_DIR)")
    group.add_argument("--database-url", help="sqlite:///path or postgresql://user@host/db (ATENDIMENTO_DATABASE_URL)")
    group.add_argument(
        "--database-admin-url",
        help="owner of the tables, for migrations and demo data (ATENDIMENTO_DATABASE_ADMIN_URL)",
    )
    if not server:
        return
    group.add_argument("--host", help="address to listen on (ATENDIMENTO_HOST, default 127.0.0.1)")
    group.add_argument("--port", type=int, help="port to listen on (ATENDIMENTO_PORT, default 3001)")
    group.add_argument("--redis-url", help="redis://host:port/db to share between instances (ATENDIMENTO_REDIS_URL)")
    group.add_argument("--jwt-secret", help="HS256 secret, at least 32 bytes (ATENDIMENTO_JWT_SECRET)")
    group.add_argument("--jwt-public-key", help="PEM text or file for RS256/ES256 (ATENDIMENTO_JWT_PUBLIC_KEY)")
    group.add_argument("--jwt-algorithms", help="comma-separated: HS256,RS256,ES256 (ATENDIMENTO_JWT_ALGORITHMS)")
    group.add_argument("--cors-origins", help="comma-separated allowed origins, * for any (ATENDIMENTO_CORS_ORIGINS)")
    group.add_argument("--log-level", help="debug, info, warning, error (ATENDIMENTO_LOG_LEVEL)")
    group.add_argument(
        "--log-json", action="store_const", const=True, help="one JSON object per log line (ATENDIMENTO_LOG_JSON)"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    names = (
        "data_dir", "database_url", "database_admin_url", "host", "port", "redis_url", "jwt_secret",
        "jwt_public_key", "jwt_algorithms", "cors_origins", "log_level", "log_json",
    )  # fmt: skip
    return load_settings(**{name: getattr(args, name, None) for name in names})


def build_parser() -> argparse.ArgumentParser:
    from atendimento.cli import db, demo, serve, token

    parser = argparse.ArgumentParser(
        prog="atendimento",
        description="Realtime gateway (Socket.IO /atendimento) and REST API of the atendimento product.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_serve = commands.add_parser(
        "serve",
        help="serve the gateway and the API",
        description="Serve Socket.IO (namespace /atendimento) and the REST API on one port. "
        "On the embedded default (SQLite) the database is created and migrated first.",
    )
    _add_settings_flags(p_serve, server=True)
    p_serve.set_defaults(run=serve.run)

    p_db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = p_db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    p_upgrade = db_commands.add_parser(
        "upgrade",
        help="apply the migrations",
        description="Apply every Alembic migration to the database (as the admin URL's role on PostgreSQL).",
    )
    _add_settings_flags(p_upgrade, server=False)
    p_upgrade.set_defaults(run=db.run_upgrade)

    p_demo = commands.add_parser(
        "demo",
        help="load the demo data",
        description="Fill an empty database with the contract's demo data (two tenants; every password "
        "is demo-senha). Refuses a database that holds other data.",
    )
    _add_settings_flags(p_demo, server=False)
    p_demo.set_defaults(run=demo.run)

    p_token = commands.add_parser(
        "token",
        help="mint a token for a user (development)",
        description="Print a signed JWT (HS256, the configured secret) for a user of the database, "
        "to try the gateway with curl or a socket.io client.",
    )
    p_token.add_argument("email", help="the user's e-mail, e.g. ana@demo.local")
    p_token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default: token_ttl_seconds)")
    _add_settings_flags(p_token, server=False)
    p_token.add_argument("--jwt-secret", help="HS256 secret (ATENDIMENTO_JWT_SECRET)")
    p_token.set_defaults(run=token.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (SettingsError, CommandError) as exc:
        print(f"atendimento: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
