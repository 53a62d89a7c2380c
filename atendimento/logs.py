"""Logging set-up: plain lines for a terminal, or one JSON object per line for a log shipper.

Tracebacks go to the log only at debug level; clients never see them (the API and the engine answer
with codes). Log lines name ids, never payload contents, so a line about one tenant carries nothing
another tenant could read.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Query parameters that carry a credential in some URL forms (redis-py's unix:// and a few drivers).
_SEGREDO_NA_CONSULTA = re.compile(r"(?i)(^|[?&;])(password|pass|passwd|pwd|secret|token|sslpassword)=[^&;#]*")
_MASCARA = "***"


def redact_url(url: str) -> str:
    """``url`` for a message or a log line: the password (in the user part or the query) masked,
    the rest exactly as written. Every message or log line that names a database or Redis URL goes
    through this one function. Hand-split rather than ``urlsplit``: it must mask even a URL that
    no parser accepts (a typo in the scheme still carries the password)."""
    esquema, separador, resto = url.partition("://")
    if not separador:
        return _SEGREDO_NA_CONSULTA.sub(rf"\1\2={_MASCARA}", url)
    fim = min((i for i in (resto.find(c) for c in "/?#") if i >= 0), default=len(resto))
    autoridade, depois = resto[:fim], resto[fim:]
    if "@" in autoridade:
        usuario, servidor = autoridade.rsplit("@", 1)
        if ":" in usuario:
            autoridade = f"{usuario.split(':', 1)[0]}:{_MASCARA}@{servidor}"
    return esquema + separador + autoridade + _SEGREDO_NA_CONSULTA.sub(rf"\1\2={_MASCARA}", depois)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers propagate to ours so that one format covers the process.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(max(logging.WARNING, root.level))
