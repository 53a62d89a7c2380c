"""The one cross-origin policy: the Engine.IO transport applies it, and ``CorsAsgi`` applies it to any
other ASGI application (the REST API), so a front end on another origin is told the same by both.

Default is same-origin: no CORS header at all, so a browser on another origin cannot read our
responses. ``["*"]`` answers ``*`` (without credentials, as the Fetch standard requires); a list of
origins echoes the matching one with ``Access-Control-Allow-Credentials: true`` (cookies are never
how we authenticate, but a load balancer's sticky-session cookie may ride on long-polling requests).
A preflight from an allowed origin is answered 204 with the methods and the request headers the
product's front ends send (``Authorization``, ``Content-Type``, ``Idempotency-Key``); the browser
refuses any other header itself.

Browsers do not apply CORS to WebSocket, so the same list guards the WebSocket handshake through its
``Origin`` header (a request without one, from a non-browser client, is allowed; so is an origin
naming the same host the request was sent to).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from atendimento.engine.engineio.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]

METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, Idempotency-Key"
EXPOSED_HEADERS = b"Retry-After"
# Ten minutes: a policy change reaches browsers soon, and a busy front end still preflights rarely.
MAX_AGE = b"600"


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

    @property
    def enabled(self) -> bool:
        return self._any or bool(self._allowed)

    def headers(self, scope: Scope) -> Headers:
        """CORS response headers for an actual request (none unless the origin is allowed)."""
        origin = header(scope, b"origin")
        if origin is None:
            return []
        if self._any:
            return [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", EXPOSED_HEADERS),
            ]
        if origin in self._allowed:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", EXPOSED_HEADERS),
                (b"vary", b"Origin"),
            ]
        return []

    def preflight(self, scope: Scope) -> Headers:
        """Headers for an OPTIONS preflight: the above plus the methods and headers allowed."""
        found = self.headers(scope)
        if not found:
            return []
        found.append((b"access-control-allow-methods", METHODS))
        found.append((b"access-control-allow-headers", ALLOWED_HEADERS))
        found.append((b"access-control-max-age", MAX_AGE))
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


def is_preflight(scope: Scope) -> bool:
    return (
        scope["method"] == "OPTIONS"
        and header(scope, b"access-control-request-method") is not None
        and header(scope, b"origin") is not None
    )


class CorsAsgi:
    """``policy`` in front of another ASGI application: preflights answered here, the headers of an
    allowed origin added to every response (errors included: a browser must read a 503's Retry-After)."""

    def __init__(self, app: ASGIApp, policy: Cors) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.policy.enabled or header(scope, b"origin") is None:
            await self.app(scope, receive, send)
            return
        if is_preflight(scope):
            await send(
                {"type": "http.response.start", "status": 204, "headers": self.policy.preflight(scope)}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        extra = self.policy.headers(scope)
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
