"""Password hashing with argon2id (argon2-cffi).

Verification is CPU-bound (tens of milliseconds with the production parameters), so the async
helpers run it in a worker thread: a burst of logins must not stall the event loop that serves
every socket.
"""

from __future__ import annotations

import asyncio
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Senhas:
    """Hashes and checks passwords with one set of argon2 parameters.

    Production uses argon2-cffi's defaults (RFC 9106 low-memory profile). Tests build
    ``Senhas.rapidas()`` so that a suite creating dozens of users stays fast; the parameters are
    stored in each hash, so a hash made with either instance verifies with the other.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def rapidas(cls) -> Senhas:
        """Cheap parameters, for tests and nothing else."""
        return cls(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    def hash(self, senha: str) -> str:
        return self._hasher.hash(senha)

    def verificar(self, senha_hash: str, senha: str) -> bool:
        try:
            return self._hasher.verify(senha_hash, senha)
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            # ValueError: a stored "hash" that is not ASCII cannot be an argon2 hash either.
            return False

    def hash_dummy(self) -> str:
        """A hash of a random secret, made once with this instance's parameters.

        Checking a password against it costs what a real check costs, so an unknown email and a
        wrong password take about the same time (login must not reveal which emails exist).
        """
        with self._lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(24))
            return self._dummy

    def gastar_tempo_de_verificacao(self, senha: str) -> None:
        self.verificar(self.hash_dummy(), senha)

    async def verificar_async(self, senha_hash: str | None, senha: str) -> bool:
        """Check in a worker thread; with no hash, burn the same time and answer False."""
        if senha_hash is None:
            await asyncio.to_thread(self.gastar_tempo_de_verificacao, senha)
            return False
        return await asyncio.to_thread(self.verificar, senha_hash, senha)

    async def hash_async(self, senha: str) -> str:
        return await asyncio.to_thread(self.hash, senha)


_PADRAO = Senhas()


def senhas_padrao() -> Senhas:
    """The production instance (argon2-cffi defaults)."""
    return _PADRAO
