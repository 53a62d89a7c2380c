"""Messages name the database without its password."""

from __future__ import annotations

from atendimento.cli.preflight import redact


def test_redact_masks_the_password_only() -> None:
    assert redact("postgresql://app:s3cret@db.local:5432/atendimento") == (
        "postgresql://app:***@db.local:5432/atendimento"
    )
    assert redact("postgresql://app@db.local/atendimento") == "postgresql://app@db.local/atendimento"
    assert redact("sqlite:///data/atendimento.db") == "sqlite:///data/atendimento.db"
    assert "s3cret" not in redact("not a url but://x:s3cret@y")


def test_redact_masks_redis_passwords_too() -> None:
    # One function for every URL in a message or a log line (atendimento.logs.redact_url).
    assert redact("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact("rediss://default:s3cret@redis.local:6380/1") == "rediss://default:***@redis.local:6380/1"
    assert redact("unix:///run/redis.sock?db=0&password=s3cret") == "unix:///run/redis.sock?db=0&password=***"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert "s3cret" not in redact("redis://u:s3c:ret@h/0")
