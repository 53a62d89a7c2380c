"""A socket as the Admin UI shows it (``SerializedSocket`` of @socket.io/admin-ui 0.5), redacted.

What is never sent: the handshake's ``auth`` (a token), any header but a few harmless ones (so no
``Authorization``, ``Cookie``, ``X-Forwarded-For``), any query parameter but the protocol's own (a
token may travel in ``?token=``), the Engine.IO session id (it is the key of a polling session: the UI
gets a digest of it), the address when a proxy header names the client (it would be that header's
value), and no event payload at all (message contents are tenant data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from atendimento.engine import Socket

Descrever = Callable[[Socket], dict[str, Any]]
"""What the application says of a socket (user, tenant, role…): becomes the UI's ``data``."""

CABECALHOS_VISIVEIS = frozenset({"host", "origin", "user-agent", "accept-language"})
CONSULTA_VISIVEL = frozenset({"EIO", "transport"})


def id_cliente(socket: Socket) -> str:
    """A stable, non-reversible name of the socket's connection (the UI groups sockets by it)."""
    return hashlib.sha256(socket.session.sid.encode()).hexdigest()[:12]


def agora_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def serializar(socket: Socket, descrever: Descrever) -> dict[str, Any]:
    handshake = socket.handshake
    headers = {k: v for k, v in handshake.headers.items() if k in CABECALHOS_VISIVEIS}
    query = {k: v for k, v in handshake.query.items() if k in CONSULTA_VISIVEL}
    path = socket.session.scope.get("path", "")
    origin = headers.get("origin")
    # Behind a proxy uvicorn puts the X-Forwarded-For client in the scope: show no address then.
    proxied = "x-forwarded-for" in handshake.headers or "forwarded" in handshake.headers
    transporte = socket.session.transport
    data = {**descrever(socket), "transport": transporte}
    return {
        "id": socket.sid,
        "clientId": id_cliente(socket),
        "transport": transporte,
        "nsp": socket.nsp.name,
        "data": data,
        "handshake": {
            "address": None if proxied else handshake.address,
            "headers": headers,
            "query": query,
            "issued": handshake.issued,
            "secure": handshake.secure,
            "time": datetime.fromtimestamp(handshake.issued / 1000, UTC).strftime("%a %b %d %Y %H:%M:%S GMT"),
            "url": path + ("?" + urlencode(query) if query else ""),
            "xdomain": origin is not None and not origin.endswith("//" + headers.get("host", "")),
        },
        "rooms": sorted(socket.rooms),
    }
