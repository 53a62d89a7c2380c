"""Long-polling across ``serve --workers``: a request for another worker's session goes to that worker.

Why: N processes accept on one port (SO_REUSEPORT), and the kernel picks one per TCP connection, so
the polling requests of one Engine.IO session (a default socket.io-client starts on polling, and
browsers do not promise one connection for them) land on any worker, while the session lives in the
one that answered the handshake. Every sid starts with its owner's prefix (``w03…``); a worker
handed a sid it does not hold passes the request, as it came, to the owner over the owner's private
Unix socket and sends back the answer. A long-polling GET waits there as it would have here.

A WebSocket *upgrade* of a polling session that lands on another worker is refused (the engine's
1008), as the reference server refuses an upgrade of a sid it does not know: socket.io-client then
stays on polling, forwarded, and the session lives on. A WebSocket opened directly (``transports:
["websocket"]``) needs nothing: its session lives on the worker that accepted it.

With TLS (``serve --ssl-certfile``) uvicorn wraps every socket it listens on, the private Unix ones
included, so the request to the owner goes over TLS too. Its certificate is not verified there: the
Unix socket sits in a folder only this user can open (mkdtemp's 0700), which already says who is at
the other end; the certificate is made for the clients' host name, not for it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import httptools

from atendimento.engine.engineio.server import ForeignSession
from atendimento.engine.engineio.types import Receive, Scope, Send

log = logging.getLogger(__name__)

PREFIXO_TAMANHO = 3  # "w" + two digits: at most 100 workers (Settings allows 64)
_SALTO = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"host", b"upgrade"}


@dataclass(frozen=True)
class Worker:
    """This process's place among ``total`` serving one port, and where their Unix sockets are."""

    indice: int
    total: int
    pasta: Path
    tls: bool = False  # the workers listen with TLS (their Unix sockets too)

    @property
    def sid_prefix(self) -> str:
        return prefixo(self.indice)

    def encaminhador(self) -> ForeignSession:
        return encaminhador(self.pasta, self.indice, self.total, tls=self.tls)


def prefixo(indice: int) -> str:
    return f"w{indice:02d}"


def caminho_socket(pasta: Path, indice: int) -> Path:
    return pasta / f"{prefixo(indice)}.sock"


def indice_do_sid(sid: str) -> int | None:
    if len(sid) > PREFIXO_TAMANHO and sid[0] == "w" and sid[1:PREFIXO_TAMANHO].isdigit():
        return int(sid[1:PREFIXO_TAMANHO])
    return None


class _Resposta:
    """httptools callbacks: status, headers and body of one response."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.corpo = bytearray()
        self.completa = False

    def on_header(self, nome: bytes, valor: bytes) -> None:
        self.headers.append((nome.lower(), valor))

    def on_body(self, corpo: bytes) -> None:
        self.corpo += corpo

    def on_message_complete(self) -> None:
        self.completa = True


def _contexto_tls() -> ssl.SSLContext:
    contexto = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    contexto.check_hostname = False
    contexto.verify_mode = ssl.CERT_NONE  # see the module's docstring: the folder's mode says who listens
    return contexto


def encaminhador(pasta: Path, proprio: int, total: int, *, tls: bool = False) -> ForeignSession:
    """The engine's ``foreign`` hook for worker ``proprio`` of ``total`` (sockets in ``pasta``);
    ``tls``: the workers listen with TLS (their Unix sockets too)."""
    contexto = _contexto_tls() if tls else None

    async def encaminhar(sid: str, scope: Scope, receive: Receive, send: Send) -> bool:
        dono = indice_do_sid(sid)
        if dono is None or dono == proprio or dono >= total:
            return False  # not a sid of this server at all: the engine answers "Session ID unknown"
        corpo = bytearray()
        while True:
            mensagem = await receive()
            if mensagem["type"] != "http.request":
                return True  # the client went away
            corpo += mensagem.get("body", b"")
            if not mensagem.get("more_body", False):
                break
        try:
            caminho = caminho_socket(pasta, dono)
            status, headers, resposta = await _pedir(caminho, scope, bytes(corpo), contexto)
        except (OSError, ValueError, httptools.HttpParserError) as exc:
            log.warning("forwarding a polling request to worker %d failed: %s", dono, type(exc).__name__)
            return False
        headers.append((b"content-length", str(len(resposta)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": resposta})
        return True

    return encaminhar


async def _pedir(
    caminho: Path, scope: Scope, corpo: bytes, tls: ssl.SSLContext | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    alvo = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        alvo += b"?" + scope["query_string"]
    linhas = [scope["method"].encode() + b" " + alvo + b" HTTP/1.1", b"host: localhost", b"connection: close"]
    linhas += [n + b": " + v for n, v in scope.get("headers", ()) if n.lower() not in _SALTO]
    linhas.append(b"content-length: " + str(len(corpo)).encode())
    if tls is None:
        leitor, escritor = await asyncio.open_unix_connection(str(caminho))
    else:
        leitor, escritor = await asyncio.open_unix_connection(
            str(caminho), ssl=tls, server_hostname="localhost"
        )
    try:
        escritor.write(b"\r\n".join(linhas) + b"\r\n\r\n" + corpo)
        resposta = _Resposta()
        parser = httptools.HttpResponseParser(resposta)
        while not resposta.completa:
            dados = await leitor.read(65536)
            if not dados:
                raise ValueError("connection closed before the response ended")
            parser.feed_data(dados)
        headers = [(n, v) for n, v in resposta.headers if n not in _SALTO]
        return parser.get_status_code(), headers, bytes(resposta.corpo)
    finally:
        escritor.close()
