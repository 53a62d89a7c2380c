"""Running the CLI's async steps so that a failure is one line for the operator, not a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from atendimento.cli.main import CommandError
from atendimento.logs import redact_url

T = TypeVar("T")


# The one redaction of URLs in messages (database and Redis alike): see atendimento.logs.
redact = redact_url


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
