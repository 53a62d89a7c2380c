"""Which addresses a delivery may reach (the rules, without the network)."""

from __future__ import annotations

import pytest

from atendimento.webhooks.ssrf import proibido


@pytest.mark.parametrize(
    ("endereco", "motivo"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "private"),
        ("100.64.0.1", "private"),
        ("224.0.0.1", "private"),
    ],
)
def test_enderecos_proibidos(endereco: str, motivo: str) -> None:
    assert proibido(endereco) == motivo


@pytest.mark.parametrize("endereco", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_enderecos_publicos(endereco: str) -> None:
    assert proibido(endereco) is None
