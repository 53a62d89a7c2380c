"""Overload (api/sobrecarga.py): past ``max_requests_in_flight`` a request gets 503 + Retry-After at
once; accepted requests finish normally; probes are never refused. No timing: requests are held
in progress by the test until it lets them go."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from atendimento.api.dependencias import bearer
from atendimento.api.sobrecarga import LimiteEmCurso
from atendimento.identity.tokens import TokenErro

from .conftest import FabricaAmbiente


def _app_presa(liberar: asyncio.Event, entrou: asyncio.Queue[str]) -> LimiteEmCurso:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await entrou.put(scope["path"])
        await liberar.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return LimiteEmCurso(app, maximo=2)


async def test_alem_do_limite_503_com_retry_after() -> None:
    liberar, entrou = asyncio.Event(), asyncio.Queue[str]()
    limite = _app_presa(liberar, entrou)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limite), base_url="http://t") as c:
        presas = [asyncio.create_task(c.get(f"/x/{i}")) for i in range(2)]
        for _ in presas:
            await entrou.get()
        assert limite.em_curso == 2
        recusada = await c.post("/atendimento/tickets/1/mensagens", json={})
        assert recusada.status_code == 503
        assert recusada.headers["retry-after"] == "1"
        assert recusada.json() == {
            "success": False,
            "error": "Servidor sobrecarregado; tente novamente em instantes",
            "code": "SOBRECARGA",
        }
        assert entrou.empty()  # the refused request never reached the app
        liberar.set()
        assert [(await p).status_code for p in presas] == [200, 200]
        assert limite.em_curso == 0
        assert (await c.get("/x/depois")).status_code == 200  # room again


async def test_sondas_nunca_recusadas() -> None:
    liberar, entrou = asyncio.Event(), asyncio.Queue[str]()
    limite = _app_presa(liberar, entrou)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limite), base_url="http://t") as c:
        presas = [asyncio.create_task(c.get(f"/x/{i}")) for i in range(2)]
        for _ in presas:
            await entrou.get()
        sondas = [asyncio.create_task(c.get(p)) for p in ("/health", "/ready", "/metrics")]
        for _ in sondas:
            await entrou.get()  # each reached the app despite the bound
        liberar.set()
        respostas = [await s for s in [*presas, *sondas]]
        assert [r.status_code for r in respostas] == [200] * 5


async def test_api_usa_a_configuracao(amb_fabrica: FabricaAmbiente, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """build_api puts the bound from Settings in front of the routes (inside CORS)."""
    from atendimento.config import Settings

    from .apoio import SEGREDO

    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, jwt_secret=SEGREDO, max_requests_in_flight=7, cors_origins=["http://app.teste"]
    )
    amb = await amb_fabrica(settings=settings)
    limites = [m for m in amb.app.user_middleware if m.cls is LimiteEmCurso]
    assert len(limites) == 1 and limites[0].kwargs["maximo"] == 7
    assert limites[0].kwargs["anonimos"] == settings.anonymous_requests_in_flight
    nomes = [m.cls.__name__ for m in amb.app.user_middleware]
    assert nomes.index("CorsAsgi") < nomes.index("LimiteEmCurso")  # CORS outermost


class TokensDeTeste:
    """``verificar`` as ServicoTokens: "bom" is a valid token, anything else is refused."""

    def verificar(self, token: str | None) -> object:
        if token != "bom":
            raise TokenErro("TOKEN_AUSENTE" if token is None else "TOKEN_INVALIDO")
        return object()


async def test_sem_token_tem_sua_propria_parte() -> None:
    """Requests without a valid token never take a slot of those with one: their own share, per
    instance and per address."""
    liberar, entrou = asyncio.Event(), asyncio.Queue[str]()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await entrou.put(scope["path"])
        await liberar.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limite = LimiteEmCurso(
        app,
        maximo=2,
        tokens=TokensDeTeste(),
        bearer=bearer,
        anonimos=3,
        anonimos_por_endereco=2,  # type: ignore[arg-type]
    )

    def cliente(endereco: str) -> httpx.AsyncClient:
        transporte = httpx.ASGITransport(app=limite, client=(endereco, 1234))
        return httpx.AsyncClient(transport=transporte, base_url="http://t")

    bom = {"Authorization": "Bearer bom"}
    async with cliente("10.0.0.1") as a, cliente("10.0.0.2") as b, cliente("10.0.0.3") as c:
        presas = [asyncio.create_task(a.post("/auth/login", json={})) for _ in range(2)]
        for _ in presas:
            await entrou.get()
        assert (await a.post("/auth/login", json={})).status_code == 503  # this address's share
        presas.append(asyncio.create_task(b.post("/auth/login", json={})))
        await entrou.get()
        assert (await c.post("/auth/login", json={})).status_code == 503  # the instance's share
        assert (await c.get("/x", headers={"Authorization": "Bearer ruim"})).status_code == 503
        # Those with a token still have every one of their slots.
        com_token = [asyncio.create_task(c.get(f"/t/{i}", headers=bom)) for i in range(2)]
        for _ in com_token:
            await entrou.get()
        assert limite.em_curso == 2 and limite.anonimos_em_curso == 3
        liberar.set()
        assert [(await p).status_code for p in [*presas, *com_token]] == [200] * 5
    assert limite.anonimos_em_curso == 0 and not limite.por_endereco
