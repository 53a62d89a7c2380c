"""``falhas``: one classification of a dead connection, whether the driver raised it or SQLAlchemy
wrapped it, and the drivers' errors raised as SQLAlchemy's (what ``Storage``'s one retry policy and
every caller of the message write rely on)."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from atendimento.storage.falhas import como_sqlalchemy, conexao_perdida


@pytest.mark.parametrize(
    "erro",
    [
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_conexao_morta_do_driver_ou_embrulhada(erro: Exception) -> None:
    assert conexao_perdida(erro)
    embrulhada = como_sqlalchemy(erro, "SELECT 1")
    assert isinstance(embrulhada, DBAPIError) and embrulhada.connection_invalidated
    assert conexao_perdida(embrulhada)
    # As SQLAlchemy's asyncpg dialect raises it: its own error, raised from asyncpg's.
    adaptada = RuntimeError("adapted")
    adaptada.__cause__ = erro
    assert conexao_perdida(DBAPIError("SELECT 1", None, adaptada))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "erro",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.RaiseError("recusada"),
        sqlite3.IntegrityError("FOREIGN KEY constraint failed"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_erro_de_sql_nao_e_conexao_perdida(erro: Exception) -> None:
    assert not conexao_perdida(erro)
    embrulhada = como_sqlalchemy(erro, "SELECT 1")
    assert isinstance(embrulhada, DBAPIError) and not embrulhada.connection_invalidated
    assert not conexao_perdida(embrulhada) and embrulhada.orig is erro


def test_sqlite_mantem_as_classes_do_sqlalchemy() -> None:
    assert isinstance(como_sqlalchemy(sqlite3.IntegrityError("x"), "INSERT"), IntegrityError)
    assert isinstance(como_sqlalchemy(sqlite3.OperationalError("x"), "INSERT"), OperationalError)


def test_erro_que_nao_e_do_driver_passa_como_esta() -> None:
    for erro in (RuntimeError("bug"), TypeError("bug"), KeyError("x")):
        assert como_sqlalchemy(erro, "SELECT 1") is erro
        assert not conexao_perdida(erro)
