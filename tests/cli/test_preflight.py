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
