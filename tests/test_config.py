"""Settings: environment variables, flags on top, one-line errors, derived URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from atendimento.config import SettingsError, async_database_url, e_postgres, load_settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ATENDIMENTO_DATABASE_URL", "ATENDIMENTO_REDIS_URL", "ATENDIMENTO_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 3001)
    assert settings.effective_database_url == "sqlite:///data/atendimento.db"
    assert settings.redis_url is None
    assert settings.cors_origins == []


def test_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDIMENTO_PORT", "4000")
    monkeypatch.setenv("ATENDIMENTO_CORS_ORIGINS", "http://a.local, http://b.local")
    monkeypatch.setenv("ATENDIMENTO_JWT_ALGORITHMS", "HS256,RS256")
    monkeypatch.setenv("ATENDIMENTO_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----x")
    assert load_settings().port == 4000
    assert load_settings(port=5000).port == 5000
    assert load_settings().cors_origins == ["http://a.local", "http://b.local"]
    assert load_settings().jwt_algorithms == ["HS256", "RS256"]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"jwt_secret": "short"}, "at least 32 bytes"),
        ({"port": 0}, "port"),
        ({"jwt_algorithms": "HS256,none"}, "jwt_algorithms"),
        ({"jwt_algorithms": "RS256"}, "jwt_public_key"),
        ({"log_level": "loud"}, "log_level"),
        ({"emissores": "node"}, "need redis_url"),
        ({"emissores": "node,ruby", "redis_url": "redis://r"}, "emissores"),
        ({"ssl_keyfile": "k.pem"}, "ssl_keyfile needs ssl_certfile"),
    ],
)
def test_bad_values_give_one_line(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_emissores_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDIMENTO_EMISSORES", "node, python")
    monkeypatch.setenv("ATENDIMENTO_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.emissores == ["node", "python"]
    assert (settings.emissores_prefixo, settings.emissores_canal_python) == ("socket.io", "socketio")
    monkeypatch.delenv("ATENDIMENTO_EMISSORES")
    assert load_settings().emissores == []  # off by default


def test_database_urls_map_to_async_drivers() -> None:
    assert async_database_url("sqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"
    assert async_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(SettingsError):
        async_database_url("mysql://u@h/db")


@pytest.mark.parametrize(
    ("url", "postgres"),
    [
        ("postgresql://u@h/db", True),
        ("postgres://u@h/db", True),
        ("postgresql+asyncpg://u@h/db", True),
        ("postgresql://u:p@127.0.0.1:5432/db?sslmode=disable", True),
        ("sqlite:///data/x.db", False),
        ("sqlite:////abs/x.db", False),
        ("sqlite:///:memory:", False),
        ("sqlite+aiosqlite:///data/x.db", False),
        ("sqlite:///postgresql://x.db", False),
        ("postgresqlx://u@h/db", False),
    ],
)
def test_one_rule_says_which_urls_are_postgres(url: str, postgres: bool, tmp_path: Path) -> None:
    # Settings, storage and the migrations all decide through e_postgres: a postgresql+asyncpg://
    # URL once read as SQLite to Settings (serve then migrated it as SQLite).
    assert e_postgres(url) is postgres
    assert load_settings(data_dir=tmp_path, database_url=url).is_postgres is postgres


def test_embedded_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = settings.resolve_jwt_secret()
    assert first is not None and len(first) >= 32
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert load_settings(data_dir=tmp_path).resolve_jwt_secret() == first


def test_engine_bounds_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from atendimento.app import build_server

    config = build_server(load_settings()).config
    assert (config.max_polling_packets, config.max_sessions_per_address) == (256, 1000)
    assert (config.refusal_log_lines, config.refusal_log_interval_s) == (20, 10.0)
    monkeypatch.setenv("ATENDIMENTO_MAX_POLLING_PACKETS", "50")
    monkeypatch.setenv("ATENDIMENTO_MAX_SESSIONS_PER_ADDRESS", "0")  # no cap
    monkeypatch.setenv("ATENDIMENTO_CONNECT_TIMEOUT_MS", "5000")
    server = build_server(load_settings())
    assert (server.config.max_polling_packets, server.config.max_sessions_per_address) == (50, None)
    assert server.connect_timeout == 5.0
    assert server.serve_main_namespace is False  # the product never serves "/"
    with pytest.raises(SettingsError, match="max_polling_packets"):
        load_settings(max_polling_packets=0)
