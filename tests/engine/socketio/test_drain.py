"""``Server.drain``: new handshakes answered 503 (polling and WebSocket), open sessions closed with a
recoverable reason spread over the window, then a wait, bounded, for their saved sessions to be taken;
and the handshake budget (``handshakes_per_second``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from atendimento.engine.engineio.admission import Admission
from atendimento.engine.socketio.recovery import RecoveryConfig

from ..app import build_test_server
from ..conftest import RunningServer

BASE = "/socket.io/?EIO=4&transport=polling"


def _sessao(http: httpx.Client, url: str) -> tuple[str, str]:
    """A polling session connected to "/": (its socket's id, recovery pid)."""
    aberta = http.get(url + BASE)
    assert aberta.status_code == 200, aberta.text
    sid = json.loads(aberta.text[1:])["sid"]
    assert http.post(f"{url}{BASE}&sid={sid}", content="40").text == "ok"
    for _ in range(10):
        for pacote in http.get(f"{url}{BASE}&sid={sid}").text.split("\x1e"):
            if pacote.startswith("40"):
                resposta = json.loads(pacote[2:])
                return resposta["sid"], resposta["pid"]
    raise AssertionError("no CONNECT")


def test_drain_refuses_handshakes_closes_sessions_over_the_window_and_waits_for_hand_overs(
    serve_app: Callable[..., RunningServer],
) -> None:
    app = build_test_server(recovery=RecoveryConfig())
    running = serve_app(app.server.asgi())
    server = app.server
    with httpx.Client(timeout=5) as http:
        sessoes = [_sessao(http, running.url) for _ in range(4)]
        inicio = time.monotonic()
        drenagem: Any = running.call(lambda: asyncio.ensure_future(server.drain(0.8, 3.0)))

        recusa = http.get(running.url + BASE)
        assert recusa.status_code == 503 and recusa.headers["retry-after"] == "1"
        assert recusa.json() == {"code": 503, "message": "Server draining"}

        async def websocket() -> int:
            with pytest.raises(websockets.InvalidStatus) as erro:
                async with websockets.connect(
                    running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
                ):
                    pass
            return erro.value.response.status_code

        assert asyncio.run(websocket()) == 503

        fechos = {}
        for sid, _ in sessoes:
            assert app.wait_disconnect(sid) == "server shutting down"
            fechos[sid] = time.monotonic() - inicio
        # Spread: the first at once, the last about three quarters into the window.
        assert min(fechos.values()) < 0.4 and max(fechos.values()) >= 0.5, fechos
        pids = [pid for _, pid in sessoes]
        assert running.call(lambda: all(pid in server.recovery for pid in pids))  # type: ignore[operator]
        assert not running.call(drenagem.done)  # waiting for them to be taken

        # Each taken (as a hand-over to another instance would): the drain ends before its bound.
        for pid in pids:
            running.call(server.recovery.take, "/", pid, None)  # type: ignore[union-attr]
        limite = time.monotonic() + 2
        while not running.call(drenagem.done):
            assert time.monotonic() < limite, "the drain did not end when every session was taken"
            time.sleep(0.02)
        assert time.monotonic() - inicio < 3.0


def test_the_handshake_budget_answers_503_past_it_and_refills(
    serve_app: Callable[..., RunningServer],
) -> None:
    app = build_test_server(handshakes_per_second=30)  # a burst of 3 (a tenth of a second's worth)
    running = serve_app(app.server.asgi())
    with httpx.Client(timeout=5) as http:
        codigos = [http.get(running.url + BASE).status_code for _ in range(8)]
        assert codigos[:3] == [200, 200, 200] and 503 in codigos[3:], codigos
        time.sleep(0.2)  # six handshakes' worth, capped at the burst
        assert http.get(running.url + BASE).status_code == 200
    assert app.server.engine.admission.refused_busy >= 1


def test_admission_token_bucket() -> None:
    agora = [0.0]
    admissao = Admission(20, clock=lambda: agora[0])  # 20/s, a burst of 2
    assert [admissao.refusal() for _ in range(3)] == [None, None, (503, "Too many handshakes")]
    agora[0] = 0.05  # one more
    assert admissao.refusal() is None
    assert admissao.refusal() is not None
    agora[0] = 10.0  # refilled, but never past the burst
    assert [admissao.refusal() for _ in range(3)] == [None, None, (503, "Too many handshakes")]
    admissao.set_rate(None)
    assert all(admissao.refusal() is None for _ in range(100))
    admissao.draining = True
    assert admissao.refusal() == (503, "Server draining")
