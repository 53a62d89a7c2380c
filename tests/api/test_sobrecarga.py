"""Overload (api/sobrecarga.py): past ``max_requests_in_flight`` a request gets 503 + Retry-After at
once; accepted requests finish normally; probes are never refused. No timing: requests are held
in progress by the test until it lets them go."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from atendimento.api.sobrecarga import LimiteEmCurso

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
