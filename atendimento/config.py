"""Settings: one typed place, read from ``ATENDIMENTO_*`` environment variables or ``serve`` flags.

Every setting here is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Final, Literal

from limits import parse as parse_limite
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from atendimento.private_files import criar_exclusivo, criar_pasta_privada, ler_completo, restringir

# The JWT rules the settings check and identity/tokens.py enforces, defined here once.
MIN_HS256_SECRET_BYTES: Final = 32
JWT_ALGORITHMS: Final = frozenset({"HS256", "RS256", "ES256"})
# A guessable scrape token would make /metrics public again.
MIN_METRICS_TOKEN_BYTES: Final = 16


# How SQLite commits (storage/banco.py): FULL waits for fsync; NORMAL may lose the last commits on a
# power cut, never corrupts.
SqliteSynchronous = Literal["FULL", "NORMAL"]


class SettingsError(ValueError):
    """A setting has a value the product cannot start with; the message is one line for the operator."""


def _rate_limits(value: object) -> object:
    """``"atendente:status=10/minute; ?=20/minute"`` → ``{event: limit}`` (each limit checked)."""
    if not isinstance(value, str):
        return value
    limits: dict[str, str] = {}
    for entry in value.split(";"):
        if not entry.strip():
            continue
        event, equals, limit = entry.strip().rpartition("=")
        if not equals or not event.strip():
            raise ValueError(f"{entry.strip()!r}: expected event=limit, e.g. atendente:status=30/minute")
        parse_limite(limit.strip())  # ValueError with the library's message
        limits[event.strip()] = limit.strip()
    return limits


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATENDIMENTO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(3001, ge=1, le=65535)
    data_dir: Path = Path("data")
    # Plain URLs: sqlite:///path or postgresql://user@host/db. The driver is chosen here, not by the user.
    database_url: str | None = None
    # The owner of the tables, for migrations and the demo data. On PostgreSQL the application itself
    # connects as database_url's role, which must neither own the tables nor bypass row-level security.
    database_admin_url: str | None = None
    redis_url: str | None = None
    jwt_secret: str | None = None
    # A file holding the HS256 secret (a mounted secret): keeps it out of the environment and argv.
    jwt_secret_file: Path | None = None
    jwt_public_key: str | None = None  # PEM text, or a path to a PEM file
    jwt_algorithms: Annotated[list[str], NoDecode] = ["HS256"]
    jwt_leeway_seconds: int = Field(5, ge=0, le=300)
    token_ttl_seconds: int = Field(8 * 3600, ge=60)
    # POST /auth/renovar stretches a login up to this age (from the login's auth_time), then refuses.
    session_max_seconds: int = Field(24 * 3600, ge=60)
    cors_origins: Annotated[list[str], NoDecode] = []
    # Proxies (addresses or networks) whose X-Forwarded-For/-Proto uvicorn may believe. Empty: none,
    # the TCP peer is the client. uvicorn's own default trusts 127.0.0.1, which lets anything that
    # reaches us through a local proxy passing the header along choose its apparent address.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = False
    socketio_path: str = "/socket.io/"
    ping_interval_ms: int = Field(25_000, ge=100)
    ping_timeout_ms: int = Field(20_000, ge=100)
    max_payload_bytes: int = Field(1_000_000, ge=1024)
    # Bounds against hostile clients (engine/engineio/config.py says why each default is what it is).
    max_polling_packets: int = Field(256, ge=1)
    max_sessions_per_address: int = Field(1000, ge=0)  # 0: no cap
    connect_timeout_ms: int = Field(45_000, ge=100)
    refusal_log_lines: int = Field(20, ge=1)
    refusal_log_interval_seconds: float = Field(10.0, gt=0)
    presence_grace_seconds: float = Field(3.0, ge=0, le=5)
    # Fairness (issue 10): per socket, events in flight or queued, and refusals before a disconnect;
    # per-event rate limits over the defaults in gateway/rate_limits.py ("*" any event, "?" unknown ones);
    # client events of one tenant handled at once (they share the database pool with everyone).
    event_queue_per_socket: int = Field(16, ge=1, le=1000)
    event_overflow_disconnect: int = Field(64, ge=0)
    event_rate_limits: Annotated[dict[str, str], NoDecode] = {}
    event_rate_limits_tenant: Annotated[dict[str, str], NoDecode] = {}
    events_per_tenant_at_once: int = Field(4, ge=1, le=1000)
    # REST writes that cost the most (gateway/rate_limits.py REST_POR_USUARIO/REST_POR_EMPRESA: the
    # defaults and why), per user and per tenant, in the same "evento=limite;…" form.
    rest_rate_limits: Annotated[dict[str, str], NoDecode] = {}
    rest_rate_limits_tenant: Annotated[dict[str, str], NoDecode] = {}
    # The database decides who a token's user is (docs/roles.md): a user it does not hold is refused
    # ("recusar") or created from the token's claims ("provisionar": tokens issued by the CRM).
    usuarios_externos: Literal["recusar", "provisionar"] = "recusar"
    # How long an instance trusts its cached copy of a user's record when no change reached it.
    usuarios_cache_seconds: float = Field(30.0, ge=0, le=3600)
    # Login throttling (api/login_throttle.py): per account, free failures then a lock-out that doubles with
    # each further failure up to the maximum; per address (IPv6 by /64), failures and all attempts a
    # minute (successful logins give their failure slot back: a call centre behind one NAT).
    login_free_failures: int = Field(5, ge=1, le=100)
    login_lockout_seconds: int = Field(60, ge=1, le=3600)
    login_lockout_max_seconds: int = Field(900, ge=1, le=86400)
    login_failures_per_address_per_minute: int = Field(30, ge=1)
    login_attempts_per_address_per_minute: int = Field(600, ge=1)
    # Connection state recovery (docs/recovery.md); a window of 0 turns it off.
    recovery_window_seconds: float = Field(120.0, ge=0, le=3600)
    recovery_max_session_packets: int = Field(1_000, ge=1)
    recovery_max_session_bytes: int = Field(1_000_000, ge=1024)
    recovery_max_total_bytes: int = Field(64 * 1024 * 1024, ge=65536)
    # With Redis: how long a reconnect on another instance waits for the session's home to hand it over.
    recovery_handover_timeout_seconds: float = Field(2.0, gt=0, le=30)
    # Deploys (docs/deploying.md): on SIGTERM, sockets are closed over this many seconds and handed
    # over; new Engine.IO sessions per second per instance past which the handshake answers 503
    # (0: no bound; the default is sized in docs/deploying.md).
    drain_seconds: float = Field(10.0, ge=0, le=300)
    handshakes_per_second: float = Field(100.0, ge=0)
    # The Socket.IO Admin UI's /admin namespace (docs/monitoring.md): off unless both are set.
    admin_username: str | None = None
    admin_password_hash: str | None = None  # argon2id, from `atendimento admin-hash`
    # Serve the official UI's files at /admin-ui/ (installed by `make admin-ui`, never committed).
    admin_ui: bool = False
    admin_ui_dir: Path = Path("tools/admin-ui/node_modules/@socket.io/admin-ui/ui/dist")
    # Tenants with their own `empresa` label on /metrics; the others are summed as empresa="outras".
    metrics_max_empresas: int = Field(20, ge=1, le=1000)
    # REST requests one process works on at once; the next gets 503 + Retry-After (api/sobrecarga.py).
    max_requests_in_flight: int = Field(64, ge=1)
    # Requests without a valid token (login, the console's files) have their own share, per process
    # and per client address, so that none of them ever takes a slot of a caller with a token.
    anonymous_requests_in_flight: int = Field(16, ge=1)
    anonymous_requests_per_address: int = Field(8, ge=1)
    # A request body (REST, or a long-polling POST) not arrived this long after the request: 408.
    body_timeout_seconds: float = Field(10.0, gt=0, le=300)
    # The bearer token /metrics asks for (a scraper's); or a file holding it; or, with neither,
    # one generated once into data_dir/metrics-token (0600).
    metrics_token: str | None = None
    metrics_token_file: Path | None = None
    # The embedded database's commit durability (storage/banco.py, docs/storage.md).
    sqlite_synchronous: SqliteSynchronous = "FULL"
    # Processes serving the one port (cli/workers.py); above 1 needs redis_url and PostgreSQL.
    workers: int = Field(1, ge=1, le=64)
    # TLS on the one port (uvicorn's transport-level setting): REST, polling and WebSocket alike. The
    # key file may be left out when the certificate file holds the key too.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # The CRM's other services publishing through Redis with the emitters they already use
    # (docs/emitters.md): "node" (@socket.io/redis-emitter), "python" (python-socketio's write-only
    # manager). None by default: nothing published there is delivered. The channel names are the
    # emitters' defaults: the Node emitter's key prefix ("socket.io") and python-socketio's channel.
    emissores: Annotated[list[Literal["node", "python"]], NoDecode] = []
    emissores_prefixo: str = Field("socket.io", min_length=1, max_length=200)
    emissores_canal_python: str = Field("socketio", min_length=1, max_length=200)
    # The largest message an emitter may publish (bytes on the channel); bigger ones are dropped unread.
    emissores_max_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Channels out (docs/channels.md): the webhook relay. Seconds between attempts of one delivery.
    webhook_retry_schedule: Annotated[list[float], NoDecode] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    webhook_timeout_seconds: float = Field(15.0, gt=0, le=120)
    # An endpoint whose every delivery failed for this long is disabled (5 days).
    webhook_disable_after_seconds: float = Field(5 * 86400, gt=0)
    # Loopback, private, link-local and metadata addresses (development and tests only).
    webhook_allow_private: bool = False
    # Hosts an endpoint may name with http:// (https:// is always allowed).
    webhook_http_hosts: Annotated[list[str], NoDecode] = []
    # Deliveries in flight per process, and per endpoint within it.
    webhook_concurrency: int = Field(64, ge=1, le=4096)
    webhook_concurrency_per_endpoint: int = Field(8, ge=1, le=1024)
    # How often an idle relay looks for work another instance wrote (its own writes wake it at once).
    webhook_poll_seconds: float = Field(2.0, gt=0, le=300)
    # Off: this process writes the outbox but delivers nothing (another process does).
    webhook_relay: bool = True

    @field_validator("jwt_algorithms", "cors_origins", "forwarded_allow_ips", "emissores", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("webhook_http_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> object:
        lista = _split_list(value)
        if isinstance(lista, list) and (not lista or any(float(x) < 0 for x in lista)):
            raise ValueError("expected seconds between attempts, comma-separated, e.g. 5,300,1800")
        return lista

    @field_validator(
        "event_rate_limits",
        "event_rate_limits_tenant",
        "rest_rate_limits",
        "rest_rate_limits_tenant",
        mode="before",
    )
    @classmethod
    def _limits(cls, value: object) -> object:
        return _rate_limits(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("jwt_algorithms")
    @classmethod
    def _algorithms(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a not in JWT_ALGORITHMS]
        if bad or not value:
            raise ValueError(f"jwt_algorithms must be among {sorted(JWT_ALGORITHMS)}, got {value}")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"forwarded_allow_ips: {item!r} is not an address, a network or *") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise ValueError(f"jwt_secret must be at least {MIN_HS256_SECRET_BYTES} bytes")
        if self.jwt_secret is not None and self.jwt_secret_file is not None:
            raise ValueError("set jwt_secret or jwt_secret_file, not both")
        if self.metrics_token is not None and self.metrics_token_file is not None:
            raise ValueError("set metrics_token or metrics_token_file, not both")
        if self.metrics_token is not None and len(self.metrics_token.encode()) < MIN_METRICS_TOKEN_BYTES:
            raise ValueError(f"metrics_token must be at least {MIN_METRICS_TOKEN_BYTES} bytes")
        asymmetric = [a for a in self.jwt_algorithms if a != "HS256"]
        if asymmetric and not self.jwt_public_key:
            raise ValueError(f"jwt_algorithms {asymmetric} need jwt_public_key")
        if not self.socketio_path.startswith("/") or not self.socketio_path.endswith("/"):
            raise ValueError("socketio_path must start and end with '/'")
        if bool(self.admin_username) != bool(self.admin_password_hash):
            raise ValueError(
                "admin_username and admin_password_hash go together (or neither, to turn /admin off)"
            )
        if self.emissores and not self.redis_url:
            raise ValueError("emissores (the Redis emitters) need redis_url")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile (the certificate)")
        if self.admin_password_hash and not self.admin_password_hash.startswith("$argon2id$"):
            raise ValueError(
                "admin_password_hash must be an argon2id hash (make one with `atendimento admin-hash`)"
            )
        return self

    # --- derived values -------------------------------------------------------------------------

    @property
    def admin_ativo(self) -> bool:
        return bool(self.admin_username and self.admin_password_hash)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'atendimento.db').as_posix()}"

    @property
    def effective_admin_database_url(self) -> str:
        return self.database_admin_url or self.effective_database_url

    @property
    def is_postgres(self) -> bool:
        return e_postgres(self.effective_database_url)

    def public_key_pem(self) -> str | None:
        if not self.jwt_public_key:
            return None
        text = self.jwt_public_key.strip()
        if text.startswith("-----BEGIN"):
            return text
        path = Path(text)
        if not path.is_file():
            raise SettingsError(f"jwt_public_key: no PEM text and no file at {path}")
        return path.read_text()

    def resolve_jwt_secret(self) -> str | None:
        """The HS256 secret; on the embedded default, created once and kept in the data folder."""
        if "HS256" not in self.jwt_algorithms:
            return None
        return _segredo(
            self.jwt_secret, self.jwt_secret_file, self.data_dir / "jwt-secret", MIN_HS256_SECRET_BYTES
        )

    def resolve_metrics_token(self) -> str:
        """The token /metrics asks for: set, read from its file, or created once in the data folder."""
        arquivo = self.data_dir / "metrics-token"
        return _segredo(self.metrics_token, self.metrics_token_file, arquivo, MIN_METRICS_TOKEN_BYTES)


def _segredo(valor: str | None, lido_de: Path | None, gerado_em: Path, minimo: int) -> str:
    """A secret: ``valor`` if set; else the text of ``lido_de`` (a mounted secret: out of the
    environment and argv); else the one kept in ``gerado_em``, created there (0600, in a 0700
    folder) on the first start."""
    if valor:
        return valor
    if lido_de is not None:
        try:
            secret = lido_de.read_text().strip()
        except OSError as exc:
            raise SettingsError(f"cannot read {lido_de} ({exc.strerror})") from None
        if len(secret.encode()) < minimo:
            raise SettingsError(f"{lido_de} holds a secret under {minimo} bytes")
        return secret
    return _segredo_gerado(gerado_em, minimo)


def _segredo_gerado(arquivo: Path, minimo: int) -> str:
    """A secret kept in ``arquivo`` (0600, in a 0700 folder): created on first start, read after."""
    criar_pasta_privada(arquivo.parent)
    secret = secrets.token_urlsafe(48)
    # O_CREAT|O_EXCL, 0600 from the start: of two processes starting at once exactly one creates
    # the file, and the other reads what the winner wrote (waiting briefly for it to be complete).
    if criar_exclusivo(arquivo, secret + "\n"):
        return secret
    restringir(arquivo)
    secret = ler_completo(arquivo).strip()
    if len(secret.encode()) < minimo:
        raise SettingsError(f"{arquivo} holds a secret under {minimo} bytes")
    return secret


def e_postgres(url: str) -> bool:
    """Whether ``url`` names PostgreSQL, in any form we accept (``postgresql://``, ``postgres://``,
    ``postgresql+asyncpg://``). The one place that decides it: ``Settings.is_postgres``, storage and
    the migrations all ask here (``serve`` migrates and checks the row-level-security role by it)."""
    esquema = url.split("://", 1)[0].split("+", 1)[0]
    return "://" in url and esquema in ("postgresql", "postgres")


def async_database_url(plain_url: str) -> str:
    """Map a plain URL to SQLAlchemy's async driver form (aiosqlite, asyncpg)."""
    if plain_url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + plain_url[len("sqlite:///") :]
    for prefix in ("postgresql://", "postgres://"):
        if plain_url.startswith(prefix):
            return "postgresql+asyncpg://" + plain_url[len(prefix) :]
    if plain_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return plain_url
    raise SettingsError(
        f"unsupported database URL {plain_url.split('://')[0]}://… (sqlite:/// or postgresql://)"
    )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (``serve`` flags) on top.

    Raises SettingsError with a one-line message on a bad value.
    """
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            parts = []
            for err in errors():
                where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
                parts.append(f"{where}: {str(err.get('msg')).removeprefix('Value error, ')}")
            raise SettingsError("; ".join(parts)) from None
        raise SettingsError(str(exc)) from None
