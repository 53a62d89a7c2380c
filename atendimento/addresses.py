"""The key a client's address is counted under, for every per-address limit (login, sessions).

The address itself is the ASGI scope's ``client``: the TCP peer, or, only for requests from the
proxies in ``forwarded_allow_ips``, what uvicorn took from their ``X-Forwarded-For`` (``cli/serve.py``).
Nothing else in the product reads forwarded headers.

IPv6 addresses are counted by their /64: one subscriber usually gets a whole /64 (often a /56), and
picking a fresh address inside it costs nothing, so counting single IPv6 addresses would give one
client billions of budgets. IPv4-mapped IPv6 (``::ffff:1.2.3.4``) counts as the IPv4 address.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIXO = 64
DESCONHECIDO = "desconhecido"


def chave_endereco(host: str | None) -> str:
    """``203.0.113.7`` → itself; ``2001:db8:1:2:a:b:c:d`` → ``2001:db8:1:2::/64``; anything that is
    not an IP address (a Unix socket path, no client at all) → itself, or ``desconhecido``."""
    if not host:
        return DESCONHECIDO
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])  # a zone (fe80::1%eth0) names a link, not a host
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIXO), strict=False))
    return str(ip)
