"""``serve`` as an attacker and an operator see it: whose X-Forwarded-For is believed (by the REST API
and the Socket.IO engine alike), and URLs and secrets kept out of output and command lines."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from apoio_rede import porta_livre, servir_config

from atendimento.cli.serve import uvicorn_config
from atendimento.config import load_settings
from atendimento.engine import Server, Socket

PYTHON = sys.executable


# The per-address failure budget, lowered so a test needs a few real (argon2) logins, not 31.
FALHAS_POR_ENDERECO = 5


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
    env["ATENDIMENTO_DATA_DIR"] = str(data_dir)
    env["ATENDIMENTO_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE"] = str(FALHAS_POR_ENDERECO)
    return env


def _no_inicio_da_janela() -> None:
    """The per-address budget counts in fixed one-minute windows (api/login_throttle.py): a burst that
    straddles two of them legitimately gets up to twice the budget. Start well inside one."""
    resto = 60 - time.time() % 60
    if resto < 20:
        time.sleep(resto + 0.5)


@contextlib.contextmanager
def _serve(data_dir: Path, *args: str) -> Iterator[tuple[str, list[str]]]:
    """``atendimento serve`` in the background until its /health answers; yields its base URL and
    (after the block) its output lines in the list."""
    port = porta_livre()
    process = subprocess.Popen(
        [PYTHON, "-m", "atendimento", "serve", "--port", str(port), *args],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            except OSError:
                assert process.poll() is None, "serve exited early"
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.1)
        yield base, output
    finally:
        process.terminate()
        saida, _ = process.communicate(timeout=15)
        output.extend(saida.splitlines())


def _login(base: str, email: str, forwarded_for: str) -> tuple[int, dict[str, Any]]:
    pedido = urllib.request.Request(
        f"{base}/auth/login",
        data=json.dumps({"email": email, "senha": "x"}).encode(),
        headers={"content-type": "application/json", "x-forwarded-for": forwarded_for},
    )
    try:
        with urllib.request.urlopen(pedido, timeout=10) as resposta:
            return resposta.status, json.loads(resposta.read())
    except urllib.error.HTTPError as erro:
        return erro.code, json.loads(erro.read())


def test_forwarded_for_from_a_local_proxy_does_not_rotate_the_address(tmp_path: Path) -> None:
    # A local proxy (nginx, a sidecar) that passes X-Forwarded-For through as the client sent it.
    # uvicorn's default trusts 127.0.0.1, so each guess would count against a new made-up address
    # and the per-address budget (30 failures a minute) would never run out.
    n = FALHAS_POR_ENDERECO
    with _serve(tmp_path) as (base, _):
        _no_inicio_da_janela()
        codes = [_login(base, f"alvo{i}@demo.local", f"10.9.{i}.{i}")[0] for i in range(n + 1)]
    assert codes[:n] == [401] * n
    assert codes[n] == 429


def test_forwarded_for_is_believed_only_from_the_configured_proxies(tmp_path: Path) -> None:
    n = FALHAS_POR_ENDERECO
    with _serve(tmp_path, "--forwarded-allow-ips", "127.0.0.1") as (base, output):
        _no_inicio_da_janela()
        codes = [_login(base, f"alvo{i}@demo.local", f"10.9.{i}.{i}")[0] for i in range(n + 1)]
        # The real client behind the proxy is one address: its budget runs out.
        same = [_login(base, f"outro{i}@demo.local", "192.0.2.44")[0] for i in range(n + 1)]
    assert codes == [401] * (n + 1)  # n + 1 clients behind the trusted proxy, one failure each
    assert same[:n] == [401] * n and same[n] == 429
    assert any("X-Forwarded-For trusted from 127.0.0.1" in line for line in output)


@contextlib.asynccontextmanager
async def _servir(settings_args: dict[str, Any], app: Any) -> AsyncIterator[str]:
    settings = load_settings(port=porta_livre(), **settings_args)
    config = uvicorn_config(settings, app)  # serve's own configuration, proxy headers included
    config.lifespan = "off"
    config.loop = "asyncio"
    async with servir_config(config) as url:
        yield url


@pytest.mark.parametrize(("proxies", "esperado"), [(None, "127.0.0.1"), ("127.0.0.1", "198.51.100.9")])
@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_socket_handshake_address_follows_the_same_rule(
    proxies: str | None, esperado: str, transporte: str
) -> None:
    engine = Server(path="/socket.io/")
    vistos: list[str | None] = []

    async def conectou(sock: Socket, _auth: dict[str, Any] | None) -> None:
        vistos.append(sock.handshake.address)

    engine.of("/teste").on_connect(conectou)
    extra = {} if proxies is None else {"forwarded_allow_ips": proxies}
    async with _servir(extra, engine.asgi(None)) as base:  # type: ignore[arg-type]
        cliente = socketio.AsyncClient(reconnection=False)
        await cliente.connect(
            base,
            namespaces=["/teste"],
            transports=[transporte],
            headers={"X-Forwarded-For": "198.51.100.9"},
            wait_timeout=5,
        )
        await cliente.disconnect()
    assert vistos == [esperado]


class _RedisComSenha:
    def __init__(self, senha: str) -> None:
        self.porta = porta_livre()
        self._pasta = tempfile.mkdtemp(prefix="redis-senha-teste-")
        binario = shutil.which("redis-server")
        assert binario, "redis-server is not on PATH"
        self._processo = subprocess.Popen(
            [binario, "--port", str(self.porta), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._pasta, "--requirepass", senha],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        limite = time.monotonic() + 10
        while time.monotonic() < limite:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.porta), 0.2):
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def parar(self) -> None:
        self._processo.kill()
        self._processo.wait(5)
        shutil.rmtree(self._pasta, ignore_errors=True)


def test_serve_prints_the_redis_url_with_its_password_masked(tmp_path: Path) -> None:
    redis = _RedisComSenha("s3cr3t-redis")
    try:
        with _serve(tmp_path, "--redis-url", f"redis://:s3cr3t-redis@127.0.0.1:{redis.porta}/0") as (_, out):
            pass
    finally:
        redis.parar()
    texto = "\n".join(out)
    assert f"redis://:***@127.0.0.1:{redis.porta}/0" in texto
    assert "s3cr3t-redis" not in texto


def test_a_redis_that_does_not_answer_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"redis://:s3cr3t-redis@127.0.0.1:{porta_livre()}/0"
    result = subprocess.run(
        [PYTHON, "-m", "atendimento", "serve", "--redis-url", url],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "redis://:***@127.0.0.1" in result.stderr
    assert "s3cr3t-redis" not in result.stderr + result.stdout


def test_help_warns_that_a_secret_flag_is_visible_to_local_users(tmp_path: Path) -> None:
    result = subprocess.run(
        [PYTHON, "-m", "atendimento", "serve", "--help"], env=_env(tmp_path), capture_output=True, text=True
    )
    texto = " ".join(result.stdout.split())
    assert "--jwt-secret-file" in texto
    assert "visible to every local user" in texto


def test_readme_passes_no_secret_on_the_command_line() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    comandos = [linha for linha in readme.splitlines() if "atendimento serve" in linha]
    assert comandos
    assert not any("--jwt-secret " in linha or "--jwt-secret=" in linha for linha in comandos), comandos


_NOMES_ENCAMINHADOS = ('"x-forwarded', "'x-forwarded", '"forwarded"', "'forwarded'")


def test_no_code_reads_forwarded_headers_itself() -> None:
    # uvicorn (configured in cli/serve.py) is the one place that may believe them.
    pacote = Path(__file__).parents[2] / "atendimento"
    leitores = [
        str(arquivo.relative_to(pacote))
        for arquivo in pacote.rglob("*.py")
        if any(
            nome in arquivo.read_text().lower() for nome in ('"x-forwarded', "b'x-forwarded", 'b"x-forwarded')
        )
    ]
    # Looks for the header only to show less: the Admin UI hides a proxied socket's address.
    so_para_esconder = {"monitoring/serializacao.py"}
    assert sorted(set(leitores) - so_para_esconder) == []
