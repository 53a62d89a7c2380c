"""The ``atendimento`` command: serve, db upgrade, demo, token, admin-hash, and provisioning
(empresa, usuario, fila, canal criar).

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


# Every local user can read a process's command line (/proc/PID/cmdline, ps): a secret belongs in the
# environment or a file. The flag stays for throwaway set-ups, with the warning in its help.
_SECRET_FLAG_HELP = (
    "HS256 secret, at least 32 bytes; WARNING: visible to every local user in ps and /proc/*/cmdline, "
    "prefer the environment variable or --jwt-secret-file"
)

# (flag, help) of each setting a command may take; the environment variable is derived from the flag.
_COMMON_FLAGS = (
    ("--data-dir", "folder of the embedded database and generated secret"),
    ("--database-url", "sqlite:///path or postgresql://user@host/db"),
    ("--database-admin-url", "owner of the tables, for migrations and demo data"),
)
_SERVER_FLAGS = (
    ("--host", "address to listen on (default 127.0.0.1)"),
    ("--port", "port to listen on (default 3001)"),
    ("--redis-url", "redis://host:port/db, to share fan-out and presence between instances"),
    ("--jwt-secret", _SECRET_FLAG_HELP),
    ("--jwt-secret-file", "file holding the HS256 secret (preferred over --jwt-secret)"),
    ("--jwt-public-key", "PEM text or file, for RS256/ES256 tokens issued elsewhere"),
    ("--jwt-algorithms", "comma-separated, among HS256,RS256,ES256"),
    (
        "--forwarded-allow-ips",
        "comma-separated proxy addresses or networks whose X-Forwarded-For is trusted (default: none)",
    ),
    ("--cors-origins", "comma-separated allowed origins, * for any (default: same origin)"),
    ("--log-level", "debug, info, warning or error"),
    ("--workers", "processes serving the port (default 1; above 1 needs --redis-url and PostgreSQL)"),
    ("--ssl-certfile", "PEM certificate (chain): serve https:// and wss:// on the port"),
    ("--ssl-keyfile", "PEM private key of the certificate (when not in the certificate file)"),
)


def _env_name(flag: str) -> str:
    return "ATENDIMENTO_" + flag.removeprefix("--").replace("-", "_").upper()


def _add_settings_flags(parser: argparse.ArgumentParser, *, server: bool) -> None:
    group = parser.add_argument_group("settings (each also from its ATENDIMENTO_* environment variable)")
    for flag, text in _COMMON_FLAGS + (_SERVER_FLAGS if server else ()):
        tipo = int if flag in ("--port", "--workers") else str
        group.add_argument(flag, type=tipo, help=f"{text} ({_env_name(flag)})")
    if server:
        json_help = "one JSON object per log line (ATENDIMENTO_LOG_JSON)"
        group.add_argument("--log-json", action="store_const", const=True, help=json_help)
        ui_help = "serve the Socket.IO Admin UI at /admin-ui/ (after `make admin-ui`; ATENDIMENTO_ADMIN_UI)"
        group.add_argument("--admin-ui", action="store_const", const=True, help=ui_help)


def settings_from_args(args: argparse.Namespace) -> Settings:
    names = (
        "data_dir", "database_url", "database_admin_url", "host", "port", "redis_url", "jwt_secret",
        "jwt_secret_file", "jwt_public_key", "jwt_algorithms", "cors_origins", "forwarded_allow_ips",
        "log_level", "log_json", "admin_ui", "workers", "ssl_certfile", "ssl_keyfile",
    )  # fmt: skip
    return load_settings(**{name: getattr(args, name, None) for name in names})


def build_parser() -> argparse.ArgumentParser:
    from atendimento.cli import admin_hash, cadastro, db, demo, serve, token

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
    p_token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default: 8 hours)")
    _add_settings_flags(p_token, server=False)
    p_token.add_argument("--jwt-secret", help=f"{_SECRET_FLAG_HELP} (ATENDIMENTO_JWT_SECRET)")
    file_help = "file holding the HS256 secret (ATENDIMENTO_JWT_SECRET_FILE)"
    p_token.add_argument("--jwt-secret-file", help=file_help)
    p_token.set_defaults(run=token.run)

    p_hash = commands.add_parser(
        "admin-hash",
        help="print the argon2id hash of an Admin UI password",
        description="Prompt for the Socket.IO Admin UI's password (twice) and print its argon2id hash, "
        "for ATENDIMENTO_ADMIN_PASSWORD_HASH (docs/monitoring.md).",
    )
    p_hash.set_defaults(run=admin_hash.run)
    cadastro.add_commands(commands, lambda p: _add_settings_flags(p, server=False))
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
