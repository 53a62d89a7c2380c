"""SessionState's close decisions from each state, and what a closed session still owes its client."""

from __future__ import annotations

import pytest

from atendimento.engine.engineio.protocol.reasons import CLIENT_FAULTS
from atendimento.engine.engineio.protocol.session import (
    CLOSE,
    NEVER,
    NOOP,
    POLLING,
    WEBSOCKET,
    Due,
    Lifecycle,
    SessionState,
    Teardown,
    Timing,
)

TIMING = Timing(ping_interval=25.0, ping_timeout=20.0, upgrade_timeout=10.0)
T0 = 1000.0


def nova(transport: str = POLLING) -> SessionState:
    return SessionState(TIMING, transport, T0)


def test_server_close_of_a_polling_session_lingers_for_its_close_packet() -> None:
    state = nova()
    assert state.close()
    assert state.lifecycle is Lifecycle.CLOSING and state.final is CLOSE
    assert state.teardown(T0 + 1, "forced close") is Teardown.LINGER
    assert state.lifecycle is Lifecycle.CLOSED and state.lingering
    assert state.linger_until == T0 + 21 and state.next_wake() == T0 + 21
    assert state.tick(T0 + 20.9) == ()
    assert state.tick(T0 + 21) == (Due.FORGET,)


def test_a_lingering_session_gives_its_output_first_then_the_close_packet_alone() -> None:
    state = nova()
    state.close()
    state.teardown(T0, "io server disconnect")
    assert state.take_final(has_output=True) == (None, False)
    assert state.take_final(has_output=False) == (CLOSE, True)
    assert state.final is None


def test_a_lingering_session_with_nothing_queued_gives_the_close_packet_at_once() -> None:
    state = nova()
    state.close()
    state.teardown(T0, "io server disconnect")
    assert state.take_final(has_output=False) == (CLOSE, True)


def test_client_close_of_a_polling_session_ends_the_pending_get_with_a_noop() -> None:
    state = nova()
    state.close(by_client=True)
    assert state.final is NOOP
    assert state.teardown(T0, "transport close") is Teardown.FORGET
    assert not state.lingering and state.next_wake() == NEVER
    assert state.take_final(has_output=True) == (NOOP, True)  # not lingering: with the output


@pytest.mark.parametrize("reason", sorted(CLIENT_FAULTS))
def test_a_close_the_client_caused_does_not_linger(reason: str) -> None:
    state = nova()
    state.close()
    assert state.teardown(T0, reason) is Teardown.FORGET


def test_an_aborted_close_does_not_linger() -> None:
    state = nova()
    state.close()
    assert state.teardown(T0, "forced close", abort=True) is Teardown.FORGET


def test_close_of_a_websocket_session_has_no_final_packet() -> None:
    state = nova(WEBSOCKET)
    state.close()
    assert state.final is None
    assert state.teardown(T0, "forced close") is Teardown.FORGET
    assert state.take_final(has_output=False) == (None, True)


def test_close_of_a_closed_session_does_nothing() -> None:
    state = nova()
    state.close()
    state.teardown(T0, "forced close")
    assert not state.close(by_client=True)
    assert state.final is CLOSE  # unchanged by the second close
    assert state.teardown(T0 + 1, "transport close") is Teardown.ALREADY_CLOSED
    assert state.linger_until == T0 + 20


def test_overflow_stops_output_once_and_a_close_then_finishes_it() -> None:
    state = nova(WEBSOCKET)
    assert state.overflow()
    assert state.lifecycle is Lifecycle.CLOSING
    assert not state.overflow()  # a second overflow in the same broadcast: already closing
    assert state.tick(T0 + 1000) == ()  # CLOSING: the teardown is already scheduled
    assert state.next_wake() == NEVER
    assert state.close()  # closing is not closed yet: a close may still finish it
    assert state.teardown(T0, "transport error", abort=True) is Teardown.FORGET
    assert not state.overflow()


def test_overflow_teardown_does_not_linger_even_on_polling() -> None:
    state = nova()
    state.overflow()
    assert state.teardown(T0, "transport error", abort=True) is Teardown.FORGET


def test_a_closing_session_ignores_its_old_connect_deadline() -> None:
    """The connect deadline and the linger time are two fields: closing does not reuse the first."""
    state = nova()
    state.await_connect(T0, 1)
    state.overflow()
    assert state.tick(T0 + 2) == ()
    state.teardown(T0 + 2, "transport error", abort=True)
    assert state.tick(T0 + 2) == ()


def test_a_closed_session_asks_for_no_ping() -> None:
    state = nova(WEBSOCKET)
    state.close()
    state.teardown(T0, "forced close")
    assert state.tick(T0 + 100) == ()
    assert state.next_wake() == NEVER


def test_an_open_session_owes_no_final_packet() -> None:
    assert nova().take_final(has_output=False) == (None, False)


def test_abandon_closes_without_anything_owed() -> None:
    state = nova()
    state.abandon()
    assert state.lifecycle is Lifecycle.CLOSED and state.final is None
    assert state.tick(T0 + 100) == () and state.next_wake() == NEVER
    assert not state.close()
