"""Cross-origin rules for the engine path.

Default is same-origin: no CORS header at all, so a browser on another origin cannot read our
responses. ``["*"]`` answers ``*`` (without credentials, as the Fetch standard requires); a list of
origins echoes the matching one with ``Access-Control-Allow-Credentials: true``.

Browsers do not apply CORS to WebSocket, so the same list guards the WebSocket handshake through its
``Origin`` header (a request without one, from a non-browser client, is allowed; so is an origin
naming the same host the request was sent to).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .types import Scope

Headers = list[tuple[bytes, bytes]]


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


class Cors:
    __slots__ = ("_allowed", "_any")

    def __init__(self, origins: Iterable[str]) -> None:
        origins = tuple(origins)
        self._any = "*" in origins
        self._allowed = frozenset(o.rstrip("/").encode() for o in origins if o != "*")

    def headers(self, scope: Scope) -> Headers:
        """CORS response headers for an actual request (none unless the origin is allowed)."""
        origin = header(scope, b"origin")
        if origin is None:
            return []
        if self._any:
            return [(b"access-control-allow-origin", b"*")]
        if origin in self._allowed:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
                (b"vary", b"Origin"),
            ]
        return []

    def preflight(self, scope: Scope) -> Headers:
        """Headers for an OPTIONS preflight: the above plus methods and requested headers."""
        found = self.headers(scope)
        if not found:
            return []
        found.append((b"access-control-allow-methods", b"GET, POST, OPTIONS"))
        requested = header(scope, b"access-control-request-headers")
        if requested:
            found.append((b"access-control-allow-headers", requested))
        found.append((b"access-control-max-age", b"86400"))
        return found

    def websocket_allowed(self, scope: Scope) -> bool:
        origin = header(scope, b"origin")
        if origin is None or self._any or origin.rstrip(b"/") in self._allowed:
            return True
        host = header(scope, b"host")
        try:
            return host is not None and urlsplit(origin.decode("latin-1")).netloc == host.decode("latin-1")
        except ValueError:
            return False
