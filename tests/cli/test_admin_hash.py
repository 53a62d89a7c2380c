"""``atendimento admin-hash``: asks twice, prints an argon2id hash that verifies; refuses otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atendimento.cli.main import main
from atendimento.config import Settings
from atendimento.identity.passwords import Senhas


def _respostas(monkeypatch: pytest.MonkeyPatch, *senhas: str) -> None:
    fila: Iterator[str] = iter(senhas)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(fila))


def test_prints_an_argon2id_hash_of_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _respostas(monkeypatch, "uma-senha-de-operador", "uma-senha-de-operador")
    assert main(["admin-hash"]) == 0
    impresso = capsys.readouterr().out.strip()
    assert impresso.startswith("$argon2id$")
    assert Senhas().verificar(impresso, "uma-senha-de-operador")
    assert Settings(admin_username="op", admin_password_hash=impresso).admin_ativo  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("primeira", "segunda"), [("uma-senha-de-operador", "outra-senha-qualquer"), ("curta", "curta")]
)
def test_refuses_mismatch_and_short_passwords(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], primeira: str, segunda: str
) -> None:
    _respostas(monkeypatch, primeira, segunda)
    assert main(["admin-hash"]) == 2
    saida = capsys.readouterr()
    assert saida.out == "" and "atendimento: error:" in saida.err


def test_admin_settings_go_together_and_need_argon2id() -> None:
    from atendimento.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="go together"):
        load_settings(admin_username="op")
    with pytest.raises(SettingsError, match="argon2id"):
        load_settings(admin_username="op", admin_password_hash="$2b$10$bcryptnaoserve")
    assert not load_settings().admin_ativo
