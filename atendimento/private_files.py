"""Files only this process's user may read: the data folder, the SQLite database, the JWT secret.

The embedded database holds every tenant's messages and the password hashes; the secret signs every
token. Created with the default umask they would be 0644 (and the folder 0755): readable by any
local user. Here they are created with their final mode from the first byte (never written, then
chmod'ed), and a file of ours found wider than that is narrowed.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

log = logging.getLogger(__name__)

MODO_PASTA = 0o700
MODO_ARQUIVO = 0o600
# How long the loser of a first-start race waits for the winner to finish writing the secret.
ESPERA_SEGREDO_S = 2.0


def criar_pasta_privada(pasta: Path) -> None:
    """Create ``pasta`` (and missing parents) 0700; an existing folder is left as the operator made it,
    with a warning when others can list it (the files in it are 0600 anyway)."""
    if not pasta.exists():
        pasta.mkdir(mode=MODO_PASTA, parents=True, exist_ok=True)
        return
    modo = stat.S_IMODE(pasta.stat().st_mode)
    if modo & 0o077:
        log.warning("data folder %s is %o: other local users can list it (0700 advised)", pasta, modo)


def restringir(arquivo: Path) -> None:
    """Narrow an existing file of ours to 0600 (a database made by an older version was 0644)."""
    try:
        modo = stat.S_IMODE(arquivo.stat().st_mode)
    except FileNotFoundError:
        return
    if modo & 0o077:
        os.chmod(arquivo, MODO_ARQUIVO)


def preparar_sqlite(arquivo: Path) -> None:
    """The SQLite file exists and is 0600 before SQLite opens it.

    SQLite creates a missing database 0644 (less the umask), and gives its ``-wal`` and ``-shm``
    files the mode of the database file: an empty 0600 file made here (a valid empty database)
    keeps all three private."""
    criar_pasta_privada(arquivo.parent)
    try:
        fd = os.open(arquivo, os.O_CREAT | os.O_EXCL | os.O_WRONLY, MODO_ARQUIVO)
    except FileExistsError:
        for caminho in (arquivo, Path(f"{arquivo}-wal"), Path(f"{arquivo}-shm")):
            restringir(caminho)
    else:
        os.close(fd)


def criar_exclusivo(arquivo: Path, conteudo: str) -> bool:
    """Write ``conteudo`` to a new file created 0600 with O_EXCL; False if the file already exists.

    One ``write`` of the whole text: a reader that finds the file sees it empty or complete (the
    text ends with a newline, which is how ``ler_completo`` tells)."""
    try:
        fd = os.open(arquivo, os.O_CREAT | os.O_EXCL | os.O_WRONLY, MODO_ARQUIVO)
    except FileExistsError:
        return False
    try:
        dados = conteudo.encode()
        escrito = os.write(fd, dados)
        while escrito < len(dados):
            escrito += os.write(fd, dados[escrito:])
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def ler_completo(arquivo: Path, espera_s: float = ESPERA_SEGREDO_S) -> str:
    """The file's text once it is complete: it ends with a newline, or nobody has written to it for
    ``espera_s`` (a file the operator wrote without one). Waits at most ``espera_s`` for a process
    that won ``criar_exclusivo`` and has not written yet."""
    limite = time.monotonic() + espera_s
    while True:
        texto = arquivo.read_text()
        if texto.endswith("\n") or time.monotonic() >= limite:
            return texto
        if texto and time.time() - arquivo.stat().st_mtime >= espera_s:
            return texto
        time.sleep(0.02)
