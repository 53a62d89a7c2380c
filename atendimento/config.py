"""Settings: one typed place, read from ``ATENDIMENTO_*`` environment variables or ``serve`` flags.

Every setting here is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_HS256_SECRET_BYTES = 32


class SettingsError(ValueError):
    """A setting has a value the product cannot start with; the message is one line for the operator."""


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
    jwt_public_key: str | None = None  # PEM text, or a path to a PEM file
    jwt_algorithms: Annotated[list[str], NoDecode] = ["HS256"]
    jwt_leeway_seconds: int = Field(5, ge=0, le=300)
    token_ttl_seconds: int = Field(8 * 3600, ge=60)
    cors_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = False
    socketio_path: str = "/socket.io/"
    ping_interval_ms: int = Field(25_000, ge=100)
    ping_timeout_ms: int = Field(20_000, ge=100)
    max_payload_bytes: int = Field(1_000_000, ge=1024)
    presence_grace_seconds: float = Field(3.0, ge=0, le=5)
    # REST requests one process works on at once; the next gets 503 + Retry-After (api/sobrecarga.py).
    max_requests_in_flight: int = Field(64, ge=1)
    # Processes serving the one port (cli/workers.py); above 1 needs redis_url and PostgreSQL.
    workers: int = Field(1, ge=1, le=64)

    @field_validator("jwt_algorithms", "cors_origins", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("jwt_algorithms")
    @classmethod
    def _algorithms(cls, value: list[str]) -> list[str]:
        allowed = {"HS256", "RS256", "ES256"}
        bad = [a for a in value if a not in allowed]
        if bad or not value:
            raise ValueError(f"jwt_algorithms must be among {sorted(allowed)}, got {value}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise ValueError(f"jwt_secret must be at least {MIN_HS256_SECRET_BYTES} bytes")
        asymmetric = [a for a in self.jwt_algorithms if a != "HS256"]
        if asymmetric and not self.jwt_public_key:
            raise ValueError(f"jwt_algorithms {asymmetric} need jwt_public_key")
        if not self.socketio_path.startswith("/") or not self.socketio_path.endswith("/"):
            raise ValueError("socketio_path must start and end with '/'")
        return self

    # --- derived values -------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'atendimento.db').as_posix()}"

    @property
    def effective_admin_database_url(self) -> str:
        return self.database_admin_url or self.effective_database_url

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith(("postgresql:", "postgres:"))

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
        if self.jwt_secret:
            return self.jwt_secret
        secret_file = self.data_dir / "jwt-secret"
        if secret_file.is_file():
            secret = secret_file.read_text().strip()
            if len(secret.encode()) < MIN_HS256_SECRET_BYTES:
                raise SettingsError(f"{secret_file} holds a secret under {MIN_HS256_SECRET_BYTES} bytes")
            return secret
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        secret_file.write_text(secret + "\n")
        secret_file.chmod(0o600)
        return secret


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
