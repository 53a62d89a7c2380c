"""The relay's HTTP client: one aiohttp session per process, for many concurrent deliveries.

Why aiohttp (pinned in requirements.in): the relay keeps up to ``ATENDIMENTO_WEBHOOK_CONCURRENCY``
requests in flight to many endpoints at once, and what matters is throughput and tail latency under
that concurrency. aiohttp's connector hands a kept-alive connection to a waiting request in O(1) and
its HTTP parser is C; httpx's pool (httpcore) scans its connections under one lock on every request
and wakes waiters in a way that, under concurrency, costs CPU that grows with the pool and shows as
long tails (encode/httpx#3215, still open). aiohttp was already a pinned test dependency.

What a delivery may do is bounded here: no redirects (a 3xx is a failure: the receiver must answer
where it was set up), a total timeout per attempt, at most ``MAX_RESPOSTA`` bytes of the answer read
(the body means nothing to us; reading it lets the connection be reused), and every address the
connection goes to checked by ``ssrf`` (by the resolver, at each new connection, and IP literals
before the request, since aiohttp does not resolve those).
"""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from atendimento.webhooks import ssrf
from atendimento.webhooks.politica import Resultado, retry_after

MAX_RESPOSTA = 64 * 1024
USER_AGENT = "atendimento-webhooks/1"


class ResolvedorSeguro(AbstractResolver):
    """Resolves as the system does, then drops every address deliveries may not reach; none left is
    an ``ssrf.EnderecoProibido`` (the attempt fails with that reason)."""

    def __init__(self, permitir_privados: bool) -> None:
        self._interno = ThreadedResolver()
        self._permitir = permitir_privados

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        enderecos = await self._interno.resolve(host, port, family)
        if self._permitir:
            return enderecos
        aceitos = [e for e in enderecos if ssrf.proibido(e["host"]) is None]
        if not aceitos:
            motivo = ssrf.proibido(enderecos[0]["host"]) if enderecos else "sem endereço"
            raise ssrf.EnderecoProibido(f"endereço proibido ({motivo})")
        return aceitos

    async def close(self) -> None:
        await self._interno.close()


def _ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


class ClienteWebhook:
    def __init__(self, *, timeout_s: float, conexoes: int, permitir_privados: bool) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._conexoes = conexoes
        self._permitir = permitir_privados
        self._sessao: aiohttp.ClientSession | None = None

    def _abrir(self) -> aiohttp.ClientSession:
        if self._sessao is None:
            conector = aiohttp.TCPConnector(
                limit=self._conexoes,
                use_dns_cache=False,  # resolved (and checked) at every new connection
                resolver=ResolvedorSeguro(self._permitir),
            )
            self._sessao = aiohttp.ClientSession(
                connector=conector,
                timeout=self._timeout,
                headers={"user-agent": USER_AGENT},
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # a receiver's cookies never reach another's
            )
        return self._sessao

    async def enviar(self, url: str, corpo: bytes, cabecalhos: dict[str, str]) -> Resultado:
        """One attempt; never raises for the network's or the receiver's failures."""
        inicio = time.perf_counter()

        def fim(status: int | None, erro: str | None, espera: float | None = None) -> Resultado:
            return Resultado(status, erro, int((time.perf_counter() - inicio) * 1000), espera)

        host = urlsplit(url).hostname or ""
        if not self._permitir and _ip_literal(host) and (motivo := ssrf.proibido(host)) is not None:
            return fim(None, f"endereço proibido ({motivo})")
        try:
            async with self._abrir().post(
                url, data=corpo, headers=cabecalhos, allow_redirects=False
            ) as resposta:
                await resposta.content.read(MAX_RESPOSTA)
                if not resposta.content.at_eof():
                    resposta.close()  # a huge answer: drop the connection rather than read it all
                espera = retry_after(resposta.headers.get("retry-after"))
                return fim(resposta.status, None, espera)
        except ssrf.EnderecoProibido as exc:
            return fim(None, str(exc))
        except aiohttp.ClientConnectorError as exc:
            causa = exc.os_error
            if isinstance(causa, ssrf.EnderecoProibido):
                return fim(None, str(causa))
            return fim(None, f"conexão recusada ou inalcançável ({type(causa).__name__})")
        except TimeoutError:
            return fim(None, "tempo esgotado")
        except aiohttp.ClientError as exc:
            return fim(None, f"erro de conexão ({type(exc).__name__})")
        except (OSError, asyncio.IncompleteReadError) as exc:
            return fim(None, f"erro de conexão ({type(exc).__name__})")

    async def fechar(self) -> None:
        if self._sessao is not None:
            await self._sessao.close()
            self._sessao = None
