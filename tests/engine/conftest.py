"""Fixtures that run a real uvicorn server with the engine, for interop tests (Python or Node clients).

``serve_app(app, **uvicorn_options)`` starts uvicorn on 127.0.0.1 and a free port in a background
thread (its own event loop, so tests may block, e.g. ``subprocess.run`` a Node client) and returns a
``RunningServer`` with ``url``; every server started this way is stopped at the end of the test.
By default the server uses our WebSocket protocol class (``EngineWebSocketProtocol``), i.e. the raw
frame fast path; pass ``ws="websockets-sansio"`` to exercise the plain ASGI fallback instead.

``engine_server`` is a ready server running ``build_test_server()`` (tests/engine/app.py), one per
test module. Code that touches engine objects must run on the server's loop:
``running.call(fn, *args)`` does that and returns the result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from apoio_rede import porta_livre

from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol

from .app import TestApp, build_test_server


@dataclass
class RunningServer:
    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    app: Any = None

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 5.0) -> Any:
        """Run ``fn(*args)`` on the server's loop (awaiting it if it is a coroutine) and return the result."""

        async def run() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_uvicorn(app: Any, **options: Any) -> RunningServer:
    port = porta_livre()
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "ws": EngineWebSocketProtocol,
        "ws_per_message_deflate": False,
        "log_level": "warning",
        "lifespan": "off",
    }
    settings.update(options)
    server = uvicorn.Server(uvicorn.Config(app, **settings))
    loop_ready: concurrent.futures.Future[asyncio.AbstractEventLoop] = concurrent.futures.Future()

    def run() -> None:
        async def main() -> None:
            loop_ready.set_result(asyncio.get_running_loop())
            await server.serve()

        asyncio.run(main())

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    loop = loop_ready.result(10)
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return RunningServer(f"http://127.0.0.1:{port}", port, server, thread, loop)


@pytest.fixture
def serve_app() -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def serve(app: Any, **options: Any) -> RunningServer:
        running = start_uvicorn(app, **options)
        started.append(running)
        return running

    yield serve
    for running in started:
        running.stop()


@pytest.fixture(scope="module")
def engine_server() -> Iterator[RunningServer]:
    test_app: TestApp = build_test_server()
    running = start_uvicorn(test_app.server.asgi())
    running.app = test_app
    yield running
    running.stop()
