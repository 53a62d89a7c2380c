"""``serve --workers N``: refused without Redis and PostgreSQL; with them, N processes on one port,
and a polling session's requests reach it whichever worker the connection lands on."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from apoio_rede import porta_livre

from atendimento.worker_forwarding import indice_do_sid, prefixo

from .test_cli import _cli, _serve, _wait_for

REDIS = "redis://127.0.0.1:6379/0"


def test_workers_sem_redis_e_postgres_e_recusado(tmp_path: Path) -> None:
    result = _cli("serve", "--workers", "2", "--port", str(porta_livre()), data_dir=tmp_path)
    assert result.returncode == 2
    assert "--workers above 1 needs --redis-url and a PostgreSQL database" in result.stderr
    assert "Traceback" not in result.stderr


def test_prefixo_do_sid() -> None:
    assert prefixo(3) == "w03"
    assert indice_do_sid("w03" + "a" * 20) == 3
    assert indice_do_sid("wxyAAAA") is None
    assert indice_do_sid("abc") is None


def _pedir(url: str, corpo: bytes | None = None) -> tuple[int, bytes]:
    # urllib opens a new connection per request: the kernel picks the worker each time.
    pedido = urllib.request.Request(url, data=corpo, method="POST" if corpo is not None else "GET")
    if corpo is not None:
        pedido.add_header("content-type", "text/plain;charset=UTF-8")
    with urllib.request.urlopen(pedido, timeout=10) as resposta:
        return resposta.status, resposta.read()


def test_dois_workers_uma_porta_e_polling_entre_eles(pg_database: Any, tmp_path: Path) -> None:
    port = porta_livre()
    process = _serve(
        tmp_path, port, "--database-url", pg_database.app_url, "--workers", "2", "--redis-url", REDIS
    )
    try:
        status, _ = _wait_for(f"http://127.0.0.1:{port}/ready", process)
        assert status == 200
        filhos = subprocess.run(
            ["ps", "--ppid", str(process.pid), "-o", "pid="], capture_output=True, text=True
        )
        assert len(filhos.stdout.split()) == 2
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        donos = set()
        for _ in range(12):
            status, corpo = _pedir(base)
            sid = json.loads(corpo[1:])["sid"]
            donos.add(sid[:3])
            assert indice_do_sid(sid) in (0, 1)
            # Each of these may land on the other worker, which passes it to the owner.
            assert _pedir(f"{base}&sid={sid}", b"40") == (200, b"ok")  # CONNECT to "/"
            status, corpo = _pedir(f"{base}&sid={sid}")
            assert status == 200 and corpo.startswith(b"4")  # its CONNECT or CONNECT_ERROR
            assert _pedir(f"{base}&sid={sid}", b"1") == (200, b"ok")  # close
        assert donos <= {"w00", "w01"}
        process.send_signal(signal.SIGTERM)
        saida, _ = process.communicate(timeout=30)
        assert process.returncode == 0, saida
        assert "Traceback" not in saida
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
