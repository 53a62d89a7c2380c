"""Files of the embedded set-up: the data folder 0700, the database and the JWT secret 0600, and the
secret made once even when two processes start at the same moment."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from atendimento.config import SettingsError, load_settings
from atendimento.private_files import preparar_sqlite
from atendimento.storage import Storage, upgrade_urls


def _existe(caminho: Path) -> bool:
    return caminho.exists()


def _modo(caminho: Path) -> int:
    return stat.S_IMODE(caminho.stat().st_mode)


async def test_database_folder_and_files_are_private(tmp_path: Path) -> None:
    pasta = tmp_path / "data"
    banco = pasta / "atendimento.db"
    await upgrade_urls(f"sqlite:///{banco}")
    storage = Storage(f"sqlite:///{banco}")
    try:
        async with storage.transacao(None) as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x integer)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        # WAL mode: the -wal and -shm files exist while a connection is open.
        assert _existe(Path(f"{banco}-wal")) and _existe(Path(f"{banco}-shm"))
        for arquivo in (banco, Path(f"{banco}-wal"), Path(f"{banco}-shm")):
            assert _modo(arquivo) == 0o600, arquivo
    finally:
        await storage.close()
    assert _modo(pasta) == 0o700


def test_a_database_left_world_readable_by_an_older_version_is_narrowed(tmp_path: Path) -> None:
    banco = tmp_path / "atendimento.db"
    for arquivo in (banco, Path(f"{banco}-wal"), Path(f"{banco}-shm")):
        arquivo.write_bytes(b"")
        arquivo.chmod(0o644)
    preparar_sqlite(banco)
    for arquivo in (banco, Path(f"{banco}-wal"), Path(f"{banco}-shm")):
        assert _modo(arquivo) == 0o600, arquivo


def test_secret_and_its_folder_are_private(tmp_path: Path) -> None:
    pasta = tmp_path / "novo"
    segredo = load_settings(data_dir=pasta).resolve_jwt_secret()
    assert segredo is not None and len(segredo) >= 32
    assert _modo(pasta) == 0o700
    assert _modo(pasta / "jwt-secret") == 0o600


_ABERTURAS = """
import os, sys
from pathlib import Path
alvo = os.path.abspath(sys.argv[1])
def gancho(evento, args):
    if evento == "open" and args and os.path.abspath(str(args[0])) == os.path.join(alvo, "jwt-secret"):
        print("open", repr(args[1]), args[2], flush=True)
sys.addaudithook(gancho)
os.umask(0)  # the worst umask: whatever mode the file is opened with is what it gets
from atendimento.config import load_settings
load_settings(data_dir=Path(alvo)).resolve_jwt_secret()
"""


def test_secret_file_is_created_exclusively_and_0600_from_the_start(tmp_path: Path) -> None:
    # Audit hooks see every open(): the secret must be created with O_CREAT|O_EXCL and mode 0600 in
    # that very call, never written with the default mode and chmod'ed afterwards.
    resultado = subprocess.run(
        [sys.executable, "-c", _ABERTURAS, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert resultado.returncode == 0, resultado.stderr
    aberturas = [linha.split() for linha in resultado.stdout.splitlines()]
    assert len(aberturas) == 1, aberturas  # one open, the creating one
    _, modo_py, flags = aberturas[0]
    assert modo_py == "None"  # os.open (a builtin open() reports 'w')
    assert int(flags) & (os.O_CREAT | os.O_EXCL) == os.O_CREAT | os.O_EXCL
    assert _modo(tmp_path / "jwt-secret") == 0o600


def test_the_loser_of_the_first_start_waits_for_the_winners_secret(tmp_path: Path) -> None:
    # The winner has created the file (O_EXCL) but not written it yet.
    arquivo = tmp_path / "jwt-secret"
    fd = os.open(arquivo, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    segredo = "w" * 64

    def escrever() -> None:
        time.sleep(0.3)
        os.write(fd, (segredo + "\n").encode())
        os.close(fd)

    escritor = threading.Thread(target=escrever)
    escritor.start()
    try:
        assert load_settings(data_dir=tmp_path).resolve_jwt_secret() == segredo
    finally:
        escritor.join()


def test_an_operator_written_secret_without_newline_is_read(tmp_path: Path) -> None:
    arquivo = tmp_path / "jwt-secret"
    arquivo.write_text("o" * 40)
    os.utime(arquivo, (time.time() - 60, time.time() - 60))
    assert load_settings(data_dir=tmp_path).resolve_jwt_secret() == "o" * 40


def test_a_secret_file_setting(tmp_path: Path) -> None:
    arquivo = tmp_path / "segredo"
    arquivo.write_text("f" * 48 + "\n")
    assert load_settings(jwt_secret_file=arquivo, data_dir=tmp_path).resolve_jwt_secret() == "f" * 48
    assert not (tmp_path / "jwt-secret").exists()
    arquivo.write_text("curto")
    with pytest.raises(SettingsError, match="under 32 bytes"):
        load_settings(jwt_secret_file=arquivo).resolve_jwt_secret()
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(jwt_secret_file=tmp_path / "nada").resolve_jwt_secret()
    with pytest.raises(SettingsError, match="not both"):
        load_settings(jwt_secret_file=arquivo, jwt_secret="s" * 40)


# Each process resolves the secret of RODADAS fresh folders; before each one they meet at a barrier
# made of files, so that all of them start the same first start at the same moment.
_CORRIDA = """
import os, sys, time
from pathlib import Path
from atendimento.config import load_settings
base, eu, processos, rodadas = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(rodadas):
    pasta = base / f"r{i}"
    (base / f"pronto-{i}-{eu}").touch()
    while len(list(base.glob(f"pronto-{i}-*"))) < processos:
        time.sleep(0)
    print(i, load_settings(data_dir=pasta).resolve_jwt_secret(), flush=True)
"""


def test_two_first_starts_at_once_end_with_the_same_secret(tmp_path: Path) -> None:
    processos, rodadas = 3, 25
    filhos = [
        subprocess.Popen(
            [sys.executable, "-c", _CORRIDA, str(tmp_path), str(k), str(processos), str(rodadas)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(processos)
    ]
    vistos: dict[int, set[str]] = {}
    for filho in filhos:
        saida, erro = filho.communicate(timeout=120)
        assert filho.returncode == 0, erro
        for linha in saida.splitlines():
            rodada, segredo = linha.split()
            vistos.setdefault(int(rodada), set()).add(segredo)
    assert len(vistos) == rodadas
    diferentes = {r: s for r, s in vistos.items() if len(s) != 1}
    assert not diferentes, f"{len(diferentes)} of {rodadas} first starts ended with different secrets"
    for rodada in range(rodadas):
        segredo_no_arquivo = (tmp_path / f"r{rodada}" / "jwt-secret").read_text().strip()
        assert vistos[rodada] == {segredo_no_arquivo}
