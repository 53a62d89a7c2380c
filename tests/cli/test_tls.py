"""``serve --ssl-certfile/--ssl-keyfile``: a bad certificate is one line before anything starts; a good
one serves REST, long-polling and WebSocket over TLS on the one port, the real socket.io-client
(trusting the test's own certificate) starting on https polling and upgrading to wss, with one process
and with ``--workers 2``."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from apoio_node import ClientesAtendimento
from apoio_rede import porta_livre
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .test_cli import PYTHON, _cli, _env, _serve

REDIS = "redis://127.0.0.1:6379/0"


def _certificado(pasta: Path, nome: str = "servidor") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (PEM files: certificate, key)."""
    chave = ec.generate_private_key(ec.SECP256R1())
    sujeito = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "atendimento-teste")])
    agora = datetime.datetime.now(datetime.UTC)
    certificado = (
        x509.CertificateBuilder()
        .subject_name(sujeito)
        .issuer_name(sujeito)
        .public_key(chave.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(agora - datetime.timedelta(minutes=5))
        .not_valid_after(agora + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(chave, hashes.SHA256())
    )
    cert = pasta / f"{nome}.crt"
    key = pasta / f"{nome}.key"
    cert.write_bytes(certificado.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        chave.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    return cert, key


def _https(url: str, cert: Path, corpo: bytes | None = None) -> tuple[int, bytes]:
    contexto = ssl.create_default_context(cafile=str(cert))
    pedido = urllib.request.Request(url, data=corpo, method="POST" if corpo is not None else "GET")
    if corpo is not None:
        pedido.add_header("content-type", "text/plain;charset=UTF-8")
    with urllib.request.urlopen(pedido, timeout=10, context=contexto) as resposta:
        return resposta.status, resposta.read()


def _esperar_https(url: str, cert: Path, processo: subprocess.Popen[str], segundos: float = 40) -> int:
    prazo = time.monotonic() + segundos
    while True:
        try:
            return _https(url, cert)[0]
        except OSError:
            assert processo.poll() is None, "serve exited early"
            assert time.monotonic() < prazo, f"serve did not answer {url} within {segundos} s"
            time.sleep(0.1)


def _parar(processo: subprocess.Popen[str]) -> str:
    if processo.poll() is None:
        processo.send_signal(signal.SIGTERM)
    try:
        saida, _ = processo.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        processo.kill()
        saida, _ = processo.communicate(timeout=10)
    return saida


def _linha_de_erro(resultado: subprocess.CompletedProcess[str]) -> str:
    assert resultado.returncode == 2, resultado.stderr
    assert "Traceback" not in resultado.stderr + resultado.stdout
    linhas = [linha for linha in resultado.stderr.splitlines() if linha.startswith("atendimento: error:")]
    assert len(linhas) == 1, resultado.stderr
    return linhas[0]


def test_certificado_ruim_para_o_inicio_com_uma_linha(tmp_path: Path) -> None:
    cert, key = _certificado(tmp_path)
    outro_cert, outra_key = _certificado(tmp_path, "outro")
    lixo = tmp_path / "lixo.pem"
    lixo.write_text("not a certificate\n")
    ilegivel = tmp_path / "ilegivel.crt"
    ilegivel.write_bytes(cert.read_bytes())
    ilegivel.chmod(0)
    porta = str(porta_livre())
    casos = [
        ("--ssl-certfile", str(tmp_path / "nao-existe.crt"), "--ssl-keyfile", str(key)),
        ("--ssl-certfile", str(lixo), "--ssl-keyfile", str(key)),
        ("--ssl-certfile", str(cert), "--ssl-keyfile", str(outra_key)),  # another certificate's key
        ("--ssl-certfile", str(cert)),  # no key anywhere
    ]
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        casos.append(("--ssl-certfile", str(ilegivel), "--ssl-keyfile", str(key)))
    for caso in casos:
        linha = _linha_de_erro(_cli("serve", "--port", porta, *caso, data_dir=tmp_path))
        assert "TLS certificate" in linha and "cannot be used" in linha, linha
    assert outro_cert.is_file()
    so_chave = _cli("serve", "--port", porta, "--ssl-keyfile", str(key), data_dir=tmp_path)
    assert "ssl_keyfile needs ssl_certfile" in _linha_de_erro(so_chave)
    # The same settings from the environment.
    ambiente = {**_env(tmp_path), "ATENDIMENTO_SSL_CERTFILE": str(lixo), "ATENDIMENTO_SSL_KEYFILE": str(key)}
    pelo_ambiente = subprocess.run(
        [PYTHON, "-m", "atendimento", "serve", "--port", porta],
        env=ambiente,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "TLS certificate" in _linha_de_erro(pelo_ambiente)


async def _socketio_sobre_tls(base: str, ca: str, token: str, *, workers: bool = False) -> None:
    """The default socket.io-client (polling first), trusting ``cert``: connects over https polling,
    upgrades to wss, and an acked event goes both ways. Under ``--workers`` an upgrade that lands on
    another worker is refused and the client stays on (forwarded) polling (worker_forwarding.py), so
    there a second client opens wss directly."""
    clientes = await ClientesAtendimento(base).iniciar()
    try:
        opcoes = {"auth": {"token": token}, "ca": ca}
        conexao = await clientes.conectar("ana", opcoes=opcoes, prazo=20)
        assert conexao["type"] == "connect", conexao
        # Engine.IO opened on polling (the CONNECT answer itself may already come over the upgrade).
        abertura = await clientes.esperar(lambda r: r["type"] == "open" and r.get("client") == "ana")
        assert abertura["transport"] == "polling"
        if not workers:
            await clientes.esperar(
                lambda r: r["type"] == "upgrade" and r.get("transport") == "websocket", prazo=20
            )
        resposta = await clientes.request("ana", "ticket:sair", {"ticketId": "qualquer"}, limit=10)
        assert resposta["args"][0]["success"] is True
        if not workers:
            assert (await clientes.state("ana"))["transport"] == "websocket"
            return
        conexao = await clientes.conectar("wss", opcoes={**opcoes, "transports": ["websocket"]}, prazo=20)
        assert conexao["type"] == "connect" and conexao["transport"] == "websocket", conexao
        resposta = await clientes.request("wss", "ticket:sair", {"ticketId": "qualquer"}, limit=10)
        assert resposta["args"][0]["success"] is True
    finally:
        await clientes.fechar()


def test_serve_com_tls_rest_polling_e_websocket(tmp_path: Path) -> None:
    cert, key = _certificado(tmp_path)
    assert _cli("demo", data_dir=tmp_path).returncode == 0
    token = _cli("token", "ana@demo.local", data_dir=tmp_path).stdout.strip()
    porta = porta_livre()
    processo = _serve(tmp_path, porta, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    try:
        base = f"https://127.0.0.1:{porta}"
        assert _esperar_https(f"{base}/health", cert, processo) == 200
        with pytest.raises(OSError):  # plain http on the TLS port is no answer
            urllib.request.urlopen(f"http://127.0.0.1:{porta}/health", timeout=5).read()
        asyncio.run(_socketio_sobre_tls(base, cert.read_text(), token))
    finally:
        saida = _parar(processo)
    assert f"listening on https://127.0.0.1:{porta}" in saida
    assert "Traceback" not in saida


def test_dois_workers_com_tls(demo_pg: Any, tmp_path: Path) -> None:
    cert, key = _certificado(tmp_path)
    banco = ("--database-url", demo_pg.banco.app_url)
    token = _cli("token", "ana@demo.local", *banco, data_dir=tmp_path).stdout.strip()
    assert token.count(".") == 2
    porta = porta_livre()
    tls = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    processo = _serve(tmp_path, porta, *banco, "--workers", "2", "--redis-url", REDIS, *tls)
    try:
        base = f"https://127.0.0.1:{porta}"
        assert _esperar_https(f"{base}/ready", cert, processo) == 200
        # A polling session's requests, on new connections, land on either worker and reach their
        # owner (over its private socket, TLS too) whichever one the kernel picked.
        polling = f"{base}/socket.io/?EIO=4&transport=polling"
        for _ in range(6):
            _, corpo = _https(polling, cert)
            sid = json.loads(corpo[1:])["sid"]
            assert _https(f"{polling}&sid={sid}", cert, b"40") == (200, b"ok")
            status, corpo = _https(f"{polling}&sid={sid}", cert)
            assert status == 200 and corpo.startswith(b"4")
            assert _https(f"{polling}&sid={sid}", cert, b"1") == (200, b"ok")
        asyncio.run(_socketio_sobre_tls(base, cert.read_text(), token, workers=True))
    finally:
        saida = _parar(processo)
    assert processo.returncode == 0, saida
    assert "Traceback" not in saida
