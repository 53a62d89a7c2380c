"""What a failed statement means to storage: the one classification of a dead connection, and the
drivers' own errors as SQLAlchemy's.

Why here: the message write talks to the drivers directly (``escrita_mensagem``), every other
statement goes through SQLAlchemy, and ``Storage``'s one retry policy must read both the same way;
callers must see the same exceptions whichever path failed (``DBAPIError`` and its subclasses).
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy.exc import DBAPIError

# What asyncpg raises on a dead connection: closed before the call, lost during it, or the server's
# own notice that it ended the backend (57P01 and friends) read as the call's answer.
_PERDIDA_ASYNCPG = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)
# The drivers' errors that ``como_sqlalchemy`` wraps; anything else (a bug of ours) passes as it is.
_DO_DRIVER = (asyncpg.PostgresError, sqlite3.Error, *_PERDIDA_ASYNCPG)


def conexao_perdida(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection is dead (the server restarted, a proxy dropped it, an
    administrator ended the backend), raised by the driver itself or through SQLAlchemy (which wraps
    the driver's error, raised from asyncpg's own, and may have invalidated the connection)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        return isinstance(orig, _PERDIDA_ASYNCPG) or (
            orig is not None and isinstance(orig.__cause__, _PERDIDA_ASYNCPG)
        )
    return isinstance(exc, _PERDIDA_ASYNCPG)


def como_sqlalchemy(exc: Exception, statement: str) -> Exception:
    """A driver's error as SQLAlchemy raises it for any other statement (``IntegrityError``,
    ``OperationalError``, … for sqlite3; ``DBAPIError`` for asyncpg, whose class names differ),
    with ``connection_invalidated`` set for a dead connection. Other exceptions are returned as is."""
    if not isinstance(exc, _DO_DRIVER):
        return exc
    base = sqlite3.Error if isinstance(exc, sqlite3.Error) else Exception
    return DBAPIError.instance(statement, None, exc, base, connection_invalidated=conexao_perdida(exc))
