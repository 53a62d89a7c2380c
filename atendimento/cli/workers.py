"""``serve --workers N``: N processes accept on one port, each a whole instance, sharing Redis.

Why: one Python process uses one core (issue 13: the write path saturated one core at 130-170
writes/s). Each worker is an instance as ``docs/cluster.md`` describes (fan-out, presence, limits
through Redis), hence Redis is required; so is PostgreSQL, since SQLite has one writer per file and
its statements run on the event loop (``storage/sqlite_conexao.py``), where another process's write
lock would make them wait.

The parent checks the database and Redis, then forks the workers; each builds its application
(its own instance id for Redis: two workers sharing one would skip each other's messages as their
own echo) and freezes it for the collector. Each worker binds its
own listening socket with SO_REUSEPORT (the kernel spreads connections among them) and a private
Unix socket, through which the other workers pass it the polling requests of its sessions
(``worker_forwarding.py``). The parent only supervises: it passes SIGTERM (each worker drains, then
stops) or SIGINT (each stops at once) to every worker; a worker that dies stops the others, and the
parent exits non-zero, so that the process manager restarts the whole.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import uvicorn

from atendimento.worker_forwarding import caminho_socket


def _socket_tcp(host: str, port: int) -> socket.socket:
    familia = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(familia, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _socket_unix(caminho: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(caminho))
    sock.listen(512)
    sock.setblocking(False)
    return sock


_PR_SET_PDEATHSIG = 1

# Builds worker (index, count, folder of the Unix sockets)'s server, not started.
FabricaServidor = Callable[[int, int, Path], uvicorn.Server]


def _morrer_com_o_pai() -> None:
    """Linux: SIGTERM to this worker when the parent dies, even by SIGKILL (no orphan keeps the port)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _worker(fabrica: FabricaServidor, indice: int, total: int, pasta: Path) -> int:
    os.setpgid(0, 0)  # a Ctrl-C reaches the parent only, which passes it on once
    _morrer_com_o_pai()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = fabrica(indice, total, pasta)
    config = server.config
    sockets = [_socket_tcp(config.host, config.port), _socket_unix(caminho_socket(pasta, indice))]
    server.run(sockets=sockets)
    return 0 if server.started else 1


def executar(fabrica: FabricaServidor, total: int) -> int:
    """Fork ``total`` workers, each serving what ``fabrica`` builds, and supervise them; the exit
    status of the whole."""
    pasta = Path(tempfile.mkdtemp(prefix="atendimento-workers-"))
    filhos: dict[int, int] = {}
    parando = False

    def parar(sinal: int, _frame: object) -> None:
        # The signal as it came: SIGTERM makes each worker drain (cli/serve.py), Ctrl-C stops at once.
        nonlocal parando
        parando = True
        for pid in filhos:
            try:
                os.kill(pid, sinal)
            except ProcessLookupError:
                pass

    sys.stdout.flush()
    sys.stderr.flush()
    for indice in range(total):
        pid = os.fork()
        if pid == 0:
            codigo = 1
            try:
                codigo = _worker(fabrica, indice, total, pasta)
            finally:
                os._exit(codigo)
        filhos[pid] = indice
    signal.signal(signal.SIGTERM, parar)
    signal.signal(signal.SIGINT, parar)
    codigo = 0
    try:
        while filhos:
            try:
                pid, estado = os.wait()
            except ChildProcessError:
                break
            indice = filhos.pop(pid, -1)
            if indice < 0:
                continue
            if not parando:
                print(f"atendimento: worker {indice} exited ({estado}); stopping the others", file=sys.stderr)
                codigo = 1
                parar(signal.SIGTERM, None)
            elif os.waitstatus_to_exitcode(estado) not in (0, -signal.SIGTERM, -signal.SIGINT):
                codigo = 1
    finally:
        shutil.rmtree(pasta, ignore_errors=True)
    return codigo
