"""Sessions open per client address, for the per-address cap.

The address is the one the ASGI server puts in ``scope["client"]``: the TCP peer, or, when uvicorn runs
with ``--proxy-headers`` and the peer is among ``--forwarded-allow-ips``, the client the trusted proxy
names in ``X-Forwarded-For``. Behind a proxy that is not trusted, every client has the proxy's address
and the cap applies to all of them together. An IPv6 address counts by its /64 (one host usually
holds a whole /64, so counting single addresses would cap nothing); an IPv4-mapped IPv6 address counts
as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

UNKNOWN = "?"  # no client address (a unix socket, some test servers): one shared bucket


def address_key(scope: Any) -> str:
    client = scope.get("client")
    host = client[0] if client else None
    if not host:
        return UNKNOWN
    if ":" not in host:
        return str(host)
    try:
        ip = ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        return str(host)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


class AddressCounter:
    """How many sessions each address holds; a key disappears when its count drops to zero."""

    __slots__ = ("_counts", "limit")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def full(self, key: str) -> bool:
        return self.limit is not None and self._counts.get(key, 0) >= self.limit

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def add(self, key: str) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1

    def remove(self, key: str) -> None:
        left = self._counts.get(key, 0) - 1
        if left > 0:
            self._counts[key] = left
        else:
            self._counts.pop(key, None)

    def clear(self) -> None:
        self._counts.clear()
