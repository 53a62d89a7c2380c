"""``atendimento empresa|usuario|fila|canal criar``: a company set up from nothing, as an operator
types it (a real process), on the embedded SQLite database and on PostgreSQL as the application role."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atendimento.cli.main import main
from atendimento.identity.passwords import Senhas
from atendimento.storage import Storage


def _processo(
    env: dict[str, str], *args: str, entrada: str | None = None
) -> subprocess.CompletedProcess[str]:
    """A real process, as the operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "atendimento", *args],
        env=env,
        input=entrada,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The same command in this process (each process costs seconds on the loaded test machine)."""

    def rodar(
        env: dict[str, str], *args: str, entrada: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        for chave in [k for k in os.environ if k.startswith("ATENDIMENTO_")]:
            monkeypatch.delenv(chave)
        for chave, valor in env.items():
            if chave.startswith("ATENDIMENTO_"):
                monkeypatch.setenv(chave, valor)
        monkeypatch.setattr(sys, "stdin", io.StringIO(entrada or ""))
        capsys.readouterr()
        codigo = main(list(args))
        saida = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), codigo, saida.out, saida.err)

    return rodar


def _ok(resultado: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert resultado.returncode == 0, resultado.stderr
    dados: dict[str, Any] = json.loads(resultado.stdout)
    return dados


def _recusa(resultado: subprocess.CompletedProcess[str], codigo: str) -> None:
    assert resultado.returncode == 2, resultado.stdout
    assert codigo in resultado.stderr and "Traceback" not in resultado.stderr
    assert resultado.stdout == ""


@pytest.fixture(params=["sqlite", "postgres"])
def ambiente(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
    dados = tmp_path / "dados"
    dados.mkdir(mode=0o700)
    env["ATENDIMENTO_DATA_DIR"] = str(dados)
    if request.param == "sqlite":
        url = f"sqlite:///{dados / 'atendimento.db'}"
    else:
        url = request.getfixturevalue("pg_database").app_url  # migrated; the role under RLS
    env["ATENDIMENTO_DATABASE_URL"] = url
    return env, url


async def _logins(url: str, senhas: Senhas, pares: list[tuple[str, str]], empresa_id: str) -> None:
    storage = Storage(url)
    try:
        for email, senha in pares:
            achado = await storage.buscar_login(email)
            assert achado is not None
            usuario, senha_hash = achado
            assert usuario.empresa_id == empresa_id and senha_hash.startswith("$argon2id$")
            assert await senhas.verificar_async(senha_hash, senha)
    finally:
        await storage.close()


async def _ausente(url: str, email: str) -> None:
    storage = Storage(url)
    try:
        assert await storage.buscar_login(email) is None
    finally:
        await storage.close()


@pytest.mark.timeout(400)  # ~15 commands, each migrating or hashing with argon2id on a loaded machine
def test_uma_empresa_do_zero(ambiente: tuple[dict[str, str], str], senhas_rapidas: Senhas, _cli: Any) -> None:
    env, url = ambiente
    empresa = _ok(_processo(env, "empresa", "criar", "--nome", "Loja Azul"))
    e = empresa["id"]
    fila = _ok(_cli(env, "fila", "criar", "--empresa", e, "--nome", "Geral", "--distribuicao", "automatica"))
    assert fila["distribuicao"] == "automatica"
    canal = _ok(
        _cli(
            env, "canal", "criar", "--empresa", e, "--nome", "Zap", "--tipo", "whatsapp", "--fila", fila["id"]
        )
    )
    assert canal["filaId"] == fila["id"] and canal["empresaId"] == e
    admin = _ok(
        _processo(
            env,
            *(
                "usuario",
                "criar",
                "--empresa",
                e,
                "--nome",
                "Rita",
                "--email",
                "rita@azul.example",
                "--role",
                "admin",
            ),
            "--senha-stdin",
            entrada="senha-da-rita-123\n",
        )
    )
    assert "senhaGerada" not in admin and admin["role"] == "admin"
    agente = _ok(
        _cli(
            env,
            *("usuario", "criar", "--empresa", e, "--nome", "Caio", "--email", "caio@azul.example"),
            *("--role", "atendente", "--capacidade", "3", "--fila", fila["id"]),
        )
    )
    assert agente["capacidade"] == 3 and agente["filaIds"] == [fila["id"]]
    gerada = agente["senhaGerada"]

    # Both log in with their passwords (argon2id hashes in the database).
    pares = [("rita@azul.example", "senha-da-rita-123"), ("caio@azul.example", gerada)]
    asyncio.run(_logins(url, senhas_rapidas, pares, e))

    # Every refusal: one line on stderr with the code, exit 2, nothing created.
    dup = (
        "usuario",
        "criar",
        "--empresa",
        e,
        "--nome",
        "Outro",
        "--email",
        "CAIO@azul.example",
        "--role",
        "atendente",
    )
    _recusa(_cli(env, *dup), "EMAIL_EM_USO")
    curta = (
        "usuario",
        "criar",
        "--empresa",
        e,
        "--nome",
        "X",
        "--email",
        "x@azul.example",
        "--role",
        "atendente",
    )
    _recusa(_cli(env, *curta, "--senha-stdin", entrada="curta\n"), "PAYLOAD_INVALIDO")
    _recusa(_cli(env, *curta, "--senha-stdin", entrada=""), "stdin")
    _recusa(
        _cli(env, "usuario", "criar", "--empresa", e, "--nome", "X", "--email", "x@a.b", "--role", "dono"),
        "role",
    )
    _recusa(_cli(env, *curta, "--fila", "nao-existe"), "FILA_NAO_ENCONTRADA")
    _recusa(_cli(env, "fila", "criar", "--empresa", e, "--nome", "Geral"), "FILA_JA_EXISTE")
    _recusa(
        _cli(env, "fila", "criar", "--empresa", e, "--nome", "Y", "--distribuicao", "roleta"), "distribuicao"
    )
    _recusa(
        _cli(env, "canal", "criar", "--empresa", e, "--nome", "Y", "--tipo", "pombo", "--fila", fila["id"]),
        "tipo",
    )
    _recusa(
        _cli(env, "canal", "criar", "--empresa", e, "--nome", "Y", "--tipo", "email", "--fila", "x"), "FILA"
    )
    _recusa(_cli(env, "empresa", "criar", "--nome", "  "), "nome")
    asyncio.run(_ausente(url, "x@azul.example"))
