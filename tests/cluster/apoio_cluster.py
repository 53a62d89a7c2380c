"""Helpers of the cluster tests: a redis-server the test owns, and waiting for a condition."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable

REDIS_URL = os.environ.get("ATENDIMENTO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def porta_livre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProprio:
    """A throwaway redis-server (no persistence) on a free port; ``matar`` and ``iniciar`` again
    keep the port, as a Redis restarted by its supervisor would."""

    def __init__(self) -> None:
        self.porta = porta_livre()
        self._pasta = tempfile.mkdtemp(prefix="redis-cluster-teste-")
        self._processo: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.porta}/0"

    def iniciar(self) -> None:
        binario = shutil.which("redis-server")
        assert binario, "redis-server is not on PATH"
        self._processo = subprocess.Popen(
            [
                binario,
                "--port",
                str(self.porta),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._pasta,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        limite = time.monotonic() + 10
        while time.monotonic() < limite:
            try:
                with socket.create_connection(("127.0.0.1", self.porta), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.porta}")

    def matar(self) -> None:
        if self._processo is not None and self._processo.poll() is None:
            self._processo.kill()
            self._processo.wait(5)
        self._processo = None


async def ate(condicao: Callable[[], bool], prazo: float = 5.0, passo: float = 0.02) -> None:
    """Wait until ``condicao()`` holds; fail the test (AssertionError) after ``prazo`` seconds."""
    limite = time.monotonic() + prazo
    while not condicao():
        if time.monotonic() > limite:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(passo)
