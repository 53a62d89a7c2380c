"""EngineSession carries out SessionState's answers: ``accepting`` (what ``push`` tests) follows the
lifecycle, and a closed session keeps or leaves the session table as the state decided."""

from __future__ import annotations

import asyncio

from atendimento.engine.engineio import EngineConfig, EngineIOServer, EngineSession
from atendimento.engine.engineio.protocol.outgoing import message
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.protocol.session import Lifecycle
from atendimento.engine.engineio.session import POLLING, WEBSOCKET


class Handler:
    def __init__(self) -> None:
        self.closed: list[str] = []

    def on_open(self, session: EngineSession) -> None:
        pass

    def on_message(self, session: EngineSession, data: str | bytes) -> None:
        pass

    def on_close(self, session: EngineSession, reason: str) -> None:
        self.closed.append(reason)


def session_on(engine: EngineIOServer, transport: str) -> EngineSession:
    session = EngineSession(engine, "sid", {"client": ("127.0.0.1", 1)}, transport)
    engine.sessions[session.sid] = session
    return session


async def test_a_server_close_on_polling_stops_output_and_lingers_for_the_close_packet() -> None:
    handler = Handler()
    engine = EngineIOServer(handler, EngineConfig())
    session = session_on(engine, POLLING)
    assert session.accepting and session.state.lifecycle is Lifecycle.OPEN
    session.push(message(['2["antes"]']))
    session.close("forced close")
    assert not session.accepting and session.closed
    session.push(message(['2["depois"]']))  # dropped: the session is closed
    assert engine.sessions["sid"] is session  # lingering for its GETs
    assert session.take_poll_body() == b'42["antes"]'
    assert session.take_poll_body() == b"1"
    assert "sid" not in engine.sessions
    assert handler.closed == ["forced close"]
    session.close(Reason.TRANSPORT_CLOSE)  # closed already: the layer above hears of it once
    assert handler.closed == ["forced close"]


async def test_overflow_stops_output_at_once_and_tears_down_on_the_next_turn() -> None:
    handler = Handler()
    engine = EngineIOServer(handler, EngineConfig(max_buffered_bytes=100))
    session = session_on(engine, WEBSOCKET)
    session.push(message(["x" * 200]))
    assert not session.accepting and session.state.lifecycle is Lifecycle.CLOSING
    assert handler.closed == []
    await asyncio.sleep(0)
    assert session.closed and handler.closed == ["transport error"]
    assert "sid" not in engine.sessions


async def test_abandon_closes_without_output() -> None:
    engine = EngineIOServer(Handler(), EngineConfig())
    session = session_on(engine, WEBSOCKET)
    session.abandon()
    assert not session.accepting and session.closed
