"""``serve --ssl-certfile/--ssl-keyfile``: the certificate checked before anything starts.

uvicorn would only find a bad certificate while starting to listen, with a traceback, and (under
``--workers``) once per worker; loading it here first turns every such failure into the CLI's one line.
"""

from __future__ import annotations

import ssl

from atendimento.cli.main import CommandError
from atendimento.config import Settings


def verificar_certificado(settings: Settings) -> None:
    """Raise a one-line CommandError when the certificate or its key cannot serve TLS."""
    if settings.ssl_certfile is None:
        return
    contexto = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        contexto.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
    except OSError as exc:  # ssl.SSLError is an OSError: unreadable, missing, not PEM, key mismatch
        motivo = exc.strerror or getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        onde = str(settings.ssl_certfile)
        if settings.ssl_keyfile is not None:
            onde += f" / {settings.ssl_keyfile}"
        raise CommandError(f"TLS certificate {onde} cannot be used: {motivo}") from None
