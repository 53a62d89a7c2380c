"""Running the CLI's async steps so that a failure is one line for the operator, not a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from atendimento.cli.main import CommandError

T = TypeVar("T")


def redact(url: str) -> str:
    """The URL with its password masked, for messages (SQLAlchemy's own URL rendering)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://…"


def run_async(step: Coroutine[Any, Any, T], *, what: str, url: str) -> T:
    """Run ``step``; turn connection and database errors into a CommandError naming ``url``."""
    try:
        return asyncio.run(step)
    except CommandError:
        raise
    except (OSError, TimeoutError) as exc:
        raise CommandError(f"{what}: the database at {redact(url)} is unreachable ({exc})") from None
    except Exception as exc:  # drivers raise their own types; the message is what the operator needs
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CommandError(f"{what} at {redact(url)} failed: {message}") from None
