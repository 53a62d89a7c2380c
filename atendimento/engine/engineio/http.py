"""Small HTTP helpers for the polling transport: query parsing and responses."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from atendimento.engine.engineio.types import Scope, Send

TEXT = b"text/plain; charset=UTF-8"

# The error codes and messages the reference server uses in its JSON error bodies.
TRANSPORT_UNKNOWN = (0, "Transport unknown")
UNKNOWN_SID = (1, "Session ID unknown")
BAD_HANDSHAKE_METHOD = (2, "Bad handshake method")
BAD_REQUEST = (3, "Bad request")
FORBIDDEN = (4, "Forbidden")
UNSUPPORTED_PROTOCOL_VERSION = (5, "Unsupported protocol version")


def query(scope: Scope) -> dict[str, str]:
    """The query string as a dict (first value wins)."""
    result: dict[str, str] = {}
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        result.setdefault(key, value)
    return result


async def respond(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    content_type: bytes = TEXT,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def respond_error(
    send: Send, error: tuple[int, str], headers: list[tuple[bytes, bytes]], status: int | None = None
) -> None:
    """HTTP 400 (403 for ``FORBIDDEN``, or ``status``) with the reference server's JSON body, e.g.
    ``{"code":1,"message":"Session ID unknown"}``."""
    code, message = error
    body = json.dumps({"code": code, "message": message}, separators=(",", ":")).encode()
    # As the reference server: 403 for a refused handshake, 400 for the rest.
    if status is None:
        status = 403 if error is FORBIDDEN else 400
    await respond(send, status, body, headers, b"application/json")


def unavailable_body(message: str) -> bytes:
    return json.dumps({"code": 503, "message": message}, separators=(",", ":")).encode()


async def respond_unavailable(send: Send, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    """HTTP 503 with ``Retry-After: 1``: not now, try again (admission.py says why 503)."""
    await respond(
        send, 503, unavailable_body(message), [(b"retry-after", b"1"), *headers], b"application/json"
    )
