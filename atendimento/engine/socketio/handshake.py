"""What a namespace connection knows about the request that opened its Engine.IO session."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl


class Handshake:
    """``headers`` (lower-case names) and ``query`` are built on first access from the ASGI scope the
    session keeps anyway, so an idle connection does not hold a second copy of its headers."""

    __slots__ = ("_headers", "_query", "_scope", "auth", "issued")

    def __init__(self, scope: Any, auth: dict[str, Any]) -> None:
        self._scope = scope
        self._headers: dict[str, str] | None = None
        self._query: dict[str, str] | None = None
        self.auth = auth
        self.issued = int(time.time() * 1000)

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            headers: dict[str, str] = {}
            for key, value in self._scope.get("headers", ()):
                name = key.decode("latin-1").lower()
                text = value.decode("latin-1")
                headers[name] = headers[name] + ", " + text if name in headers else text
            self._headers = headers
        return self._headers

    def release(self) -> None:
        """Called once the connect handler has run and accepted: drop the cached dicts (rebuilt on next
        access), since an idle connection should not carry a second copy of its headers, and the
        CONNECT payload for good. Handlers read ``auth`` while connecting; kept for the connection's
        life it would let any client park up to ``maxPayload`` bytes per socket."""
        self._headers = None
        self._query = None
        self.auth = {}

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            raw = self._scope.get("query_string", b"").decode("latin-1")
            self._query = dict(parse_qsl(raw, keep_blank_values=True))
        return self._query

    @property
    def address(self) -> str | None:
        client = self._scope.get("client")
        return client[0] if client else None

    @property
    def secure(self) -> bool:
        return self._scope.get("scheme") in ("https", "wss")

    @property
    def url(self) -> str:
        query = self._scope.get("query_string", b"").decode("latin-1")
        path: str = self._scope.get("path", "")
        return path + ("?" + query if query else "")
