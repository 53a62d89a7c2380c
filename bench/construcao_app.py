"""What building the product costs: ``build_app`` and its first request, in CPU per app.

    .venv/bin/python bench/construcao_app.py [--apps 20]

Production builds one app per process; the tests build one per test, so this is the fixed cost of
each of them. For a before/after, run it with ``PYTHONPATH`` set to another checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

import atendimento
from atendimento.app import build_app
from atendimento.config import Settings
from atendimento.storage.banco import Storage


async def _uma(settings: Settings, storage: Storage) -> None:
    aplicacao = build_app(settings, storage=storage)
    transporte = httpx.ASGITransport(app=aplicacao.asgi)
    async with httpx.AsyncClient(transport=transporte, base_url="http://bench") as cliente:
        await cliente.get("/health")  # builds the middleware stack and the short path's table


async def main(apps: int) -> None:
    pasta = Path(tempfile.mkdtemp(prefix="construcao-app-"))
    settings = Settings(data_dir=pasta, jwt_secret="x" * 40)  # type: ignore[call-arg]
    storage = Storage(f"sqlite+aiosqlite:///{pasta}/bench.db")
    await _uma(settings, storage)  # imports and first-use caches out of the measure
    inicio = time.process_time()
    for _ in range(apps):
        await _uma(settings, storage)
    por_app_ms = (time.process_time() - inicio) / apps * 1000
    await storage.close()
    print(f"{atendimento.__file__}: {por_app_ms:.1f} ms of CPU per app built and its first request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=20)
    asyncio.run(main(parser.parse_args().apps))
