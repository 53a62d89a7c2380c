"""Where an endpoint may point: never at this machine, the private network, link-local or a cloud's
metadata service, unless ``ATENDIMENTO_WEBHOOK_ALLOW_PRIVATE=true`` (development and tests).

The check is on the resolved addresses, by the HTTP client's resolver (``cliente_http``), so the
address checked is the address connected to: a name that resolves to a public address when the
endpoint is saved and to 127.0.0.1 later (DNS rebinding) is refused at that later connection. Every
new connection resolves again (no DNS cache); a kept-alive connection goes on to the address it was
checked for."""

from __future__ import annotations

import ipaddress

# Metadata services that are not in a private or link-local range everywhere (169.254.169.254 is
# link-local, fd00:ec2::254 unique-local; these are named for clarity all the same).
_METADADOS = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


class EnderecoProibido(OSError):
    """The endpoint's host resolves to an address that deliveries may not reach."""


def proibido(endereco: str) -> str | None:
    """Why ``endereco`` (an IP) may not be reached, or None."""
    ip = ipaddress.ip_address(endereco.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADADOS:
        return "metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "private"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "private"  # carrier-grade NAT: not public either
    return None
