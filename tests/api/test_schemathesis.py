"""The REST API keeps the promises of its own ``/openapi.json``: schemathesis, with every check
(``st run --checks all``: examples, coverage, fuzzing and stateful phases), as an ``admin`` and as
a ``gestor`` of the demo data, finds no failure.

In-process and bounded, so it runs in ``make test``: the app is the one the composition root
builds (``amb``), on SQLite; ``ATENDIMENTO_SCHEMATHESIS_EXAMPLES`` sets the examples per operation
(default below), and the run is derandomized with a fixed seed, so CI sees the same cases each
time. A longer hunt: ``ATENDIMENTO_SCHEMATHESIS_EXAMPLES=200 pytest tests/api/test_schemathesis.py``.

schemathesis drives an ASGI app from its own event-loop thread, while the app's storage lives on
the test's loop: ``_ponte`` hands each request over to the test's loop and the messages back, and
the engine itself runs in a worker thread so the test's loop stays free to serve.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import EngineFinished, NonFatalError, ScenarioFinished
from schemathesis.generation import GenerationMode

from .apoio import Ambiente

EXEMPLOS = int(os.environ.get("ATENDIMENTO_SCHEMATHESIS_EXAMPLES", "10"))
SEMENTE = 22

Mensagem = dict[str, Any]
Receber = Callable[[], Awaitable[Mensagem]]
Enviar = Callable[[Mensagem], Awaitable[None]]
Asgi = Callable[[dict[str, Any], Receber, Enviar], Awaitable[None]]


def _ponte(app: Asgi, loop_app: asyncio.AbstractEventLoop) -> Asgi:
    """An ASGI app for another loop: each call runs ``app`` on ``loop_app``, its ``receive`` and
    ``send`` going back to the caller's loop. The lifespan is the test's (the fixtures start and
    stop the app's parts), so it is acknowledged here and never reaches ``app``."""

    async def asgi(scope: dict[str, Any], receive: Receber, send: Enviar) -> None:
        if scope["type"] == "lifespan":
            while True:
                mensagem = await receive()
                fase = mensagem["type"].rpartition(".")[2]
                await send({"type": f"lifespan.{fase}.complete"})
                if fase == "shutdown":
                    return
        loop_chamador = asyncio.get_running_loop()

        async def receber() -> Mensagem:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(receive(), loop_chamador))

        async def enviar(mensagem: Mensagem) -> None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(mensagem), loop_chamador))

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(app(scope, receber, enviar), loop_app))

    return asgi


def _descrever(recorder: Any, caso_id: str, checagem: Any) -> str:
    caso = recorder.cases[caso_id].value
    interacao = recorder.interactions.get(caso_id)
    resposta = interacao.response if interacao is not None else None
    status = resposta.status_code if resposta is not None else "-"
    corpo = resposta.content[:300] if resposta is not None else b""
    return (
        f"{checagem.name}: {caso.method} {caso.formatted_path} query={caso.query} "
        f"body={str(caso.body)[:200]} → {status} {corpo!r}: {checagem.failure_info.failure.title}: "
        f"{checagem.failure_info.failure.message[:300]}"
    )


@pytest.mark.lento  # about half a minute per role: out of the fast lane
@pytest.mark.timeout(600)
@pytest.mark.parametrize("email", ["admin@demo.local", "gestor@demo.local"])
async def test_a_api_cumpre_o_proprio_openapi(amb: Ambiente, email: str) -> None:
    loop = asyncio.get_running_loop()
    casos, falhas, segundos = await loop.run_in_executor(None, _executar, amb, email, loop)
    total = sum(casos.values())
    print(f"schemathesis as {email}: {total} cases {casos} in {segundos:.1f} s, {len(falhas)} failures")
    # Every phase ran (the stateful one chains operations by the links it infers from the schema).
    assert set(casos) >= {"examples", "coverage", "fuzzing", "stateful"}, casos
    assert not falhas, "\n".join(sorted(set(falhas)))


def _executar(
    amb: Ambiente, email: str, loop: asyncio.AbstractEventLoop
) -> tuple[dict[str, int], list[str], float]:
    """Runs every phase and check as ``email`` (in a worker thread); answers the cases run, the
    failures (one line each) and the seconds it took."""
    config = SchemathesisConfig()
    config.update(seed=SEMENTE, max_failures=None)
    projeto = config.projects.override
    projeto.update(headers={"Authorization": f"Bearer {amb.token(email)}"}, workers=1)
    projeto.checks.update(included_check_names=["all"])
    projeto.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXEMPLOS,
        deterministic=True,
        database="none",
    )
    esquema = schemathesis.openapi.from_asgi("/openapi.json", _ponte(amb.aplicacao.asgi, loop), config=config)

    @esquema.hook("map_query")  # type: ignore[untyped-decorator]
    def sem_cursor_inventado(_: Any, consulta: dict[str, Any] | None) -> dict[str, Any] | None:
        # A cursor is the API's own proximoCursor, opaque: any other string is 422 CURSOR_INVALIDO
        # by design (tests/api/test_paginas.py pages with real ones). A generated one is dropped.
        return None if consulta is None else {k: v for k, v in consulta.items() if k != "cursor"}

    casos: Counter[str] = Counter()
    falhas: list[str] = []
    for evento in from_schema(esquema).execute():
        if isinstance(evento, ScenarioFinished):
            casos[str(evento.phase)] += len(evento.recorder.cases)
            for caso_id, checagens in evento.recorder.checks.items():
                for checagem in checagens:
                    if checagem.status == Status.FAILURE and checagem.failure_info is not None:
                        falhas.append(_descrever(evento.recorder, caso_id, checagem))
        elif isinstance(evento, NonFatalError):
            falhas.append(f"{evento.label}: {evento.info.format()}")
        elif isinstance(evento, EngineFinished):
            return dict(casos), falhas, evento.running_time
    raise AssertionError("schemathesis stopped without finishing")
