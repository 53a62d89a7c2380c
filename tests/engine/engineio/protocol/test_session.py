"""SessionState: the session's decisions with a fake clock (``now`` is a plain number), no event loop."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atendimento.engine.engineio.protocol.session import (
    NEVER,
    POLLING,
    WEBSOCKET,
    Due,
    Lifecycle,
    SessionState,
    Timing,
    Upgrade,
    UpgradeStep,
)

TIMING = Timing(ping_interval=25.0, ping_timeout=20.0, upgrade_timeout=10.0)
T0 = 1000.0  # the loop clock when the session opens


def nova(transport: str = POLLING) -> SessionState:
    return SessionState(TIMING, transport, T0)


# ------------------------------------------------------------------------------------------ heartbeat


def test_first_ping_is_due_one_interval_after_the_open() -> None:
    state = nova()
    assert state.next_wake() == T0 + 25
    assert state.tick(T0 + 24.999) == ()
    assert state.tick(T0 + 25) == (Due.PING,)
    assert state.pong_by == T0 + 45


def test_a_ping_is_asked_for_once() -> None:
    state = nova()
    assert state.tick(T0 + 25) == (Due.PING,)
    assert state.tick(T0 + 26) == ()
    assert state.tick(T0 + 44.9) == ()
    assert state.next_wake() == T0 + 45  # now the pong deadline


def test_missing_pong_is_a_ping_timeout_at_the_deadline() -> None:
    state = nova()
    state.tick(T0 + 25)
    assert state.tick(T0 + 45) == (Due.PING_TIMEOUT,)


def test_late_tick_counts_the_pong_deadline_from_when_the_ping_was_due() -> None:
    """A client never gets more than pingInterval + pingTimeout of silence, however late the sweep."""
    state = nova()
    assert state.tick(T0 + 30) == (Due.PING,)
    assert state.pong_by == T0 + 45
    assert state.tick(T0 + 45) == (Due.PING_TIMEOUT,)


def test_a_tick_later_than_the_whole_deadline_still_sends_the_ping_first() -> None:
    # The sweep closes at its next pass; a request from the client enforces it at once (ping_timed_out).
    state = nova()
    assert state.ping_timed_out(T0 + 50)
    assert state.tick(T0 + 50) == (Due.PING,)
    assert state.tick(T0 + 50) == (Due.PING_TIMEOUT,)


def test_pong_clears_the_ping_and_moves_the_next_one() -> None:
    state = nova()
    state.tick(T0 + 25)
    state.pong(T0 + 26)
    assert state.pong_by == NEVER
    assert state.next_wake() == T0 + 51
    assert state.tick(T0 + 45) == ()  # the old deadline no longer applies
    assert state.tick(T0 + 51) == (Due.PING,)


def test_an_unasked_pong_also_moves_the_next_ping() -> None:
    state = nova()
    state.pong(T0 + 10)
    assert state.tick(T0 + 25) == ()
    assert state.tick(T0 + 35) == (Due.PING,)


def test_ping_timed_out_with_and_without_a_ping_in_flight() -> None:
    state = nova()
    assert not state.ping_timed_out(T0 + 44.9)
    assert state.ping_timed_out(T0 + 45)
    state.tick(T0 + 25)
    assert not state.ping_timed_out(T0 + 44.9)
    assert state.ping_timed_out(T0 + 45)
    state.pong(T0 + 30)
    assert not state.ping_timed_out(T0 + 74.9)
    assert state.ping_timed_out(T0 + 75)


# ----------------------------------------------------------------------------------- connect deadline


def test_connect_deadline_closes_a_session_that_joins_no_namespace() -> None:
    state = nova()
    state.await_connect(T0, 5)
    assert state.next_wake() == T0 + 5
    assert state.tick(T0 + 4.9) == ()
    assert state.tick(T0 + 5) == (Due.CONNECT_TIMEOUT,)
    assert Due.CONNECT_TIMEOUT.value == "forced close"  # the reason the layer above gets


def test_connected_cancels_the_connect_deadline() -> None:
    state = nova()
    state.await_connect(T0, 5)
    state.connected()
    assert state.connect_by == NEVER
    assert state.tick(T0 + 6) == ()
    assert state.next_wake() == T0 + 25


def test_a_ping_due_with_the_connect_deadline_goes_out_before_the_close() -> None:
    state = nova()
    state.await_connect(T0, 25)
    assert state.tick(T0 + 25) == (Due.PING, Due.CONNECT_TIMEOUT)


def test_a_ping_timeout_wins_over_the_connect_deadline() -> None:
    state = nova()
    state.tick(T0 + 25)
    state.await_connect(T0 + 30, 10)
    assert state.tick(T0 + 45) == (Due.PING_TIMEOUT,)


def test_a_later_connect_deadline_replaces_the_earlier_one() -> None:
    state = nova()
    state.await_connect(T0, 5)
    state.await_connect(T0 + 4, 5)
    assert state.tick(T0 + 5) == ()
    assert state.tick(T0 + 9) == (Due.CONNECT_TIMEOUT,)


# -------------------------------------------------------------------------------------------- upgrade


def test_upgrade_probe_then_upgrade() -> None:
    state = nova()
    assert state.can_probe() and not state.get_ends_with_noop()
    state.probe_opened(T0 + 1)
    assert state.upgrade is Upgrade.PROBING and state.upgrade_by == T0 + 11
    assert not state.can_probe()  # a second WebSocket is refused while this one probes
    assert not state.get_ends_with_noop()  # GETs carry output until the probe is answered
    assert state.probe_packet("2probe") is UpgradeStep.ANSWER_PROBE
    assert state.upgrade is Upgrade.UPGRADING and state.get_ends_with_noop()
    assert state.transport == POLLING
    assert state.probe_packet("5") is UpgradeStep.COMPLETE
    assert state.transport == WEBSOCKET and state.upgrade is Upgrade.NONE
    assert state.upgrade_by == NEVER
    assert not state.can_probe() and not state.get_ends_with_noop()


@pytest.mark.parametrize(
    "frames",
    [
        ["5"],  # upgrade before the probe
        ["2probe", "2probe"],  # a second probe
        ["2probe", "4hello"],  # a message where the upgrade should be
        ["3probe"],
        [None],  # a binary frame
        ["2probe", None],
    ],
)
def test_upgrade_out_of_order_aborts_and_stays_on_polling(frames: list[str | None]) -> None:
    state = nova()
    state.probe_opened(T0)
    steps = [state.probe_packet(f) for f in frames]
    assert steps[-1] is UpgradeStep.ABORT
    assert state.transport == POLLING and state.upgrade is Upgrade.NONE and state.upgrade_by == NEVER
    assert state.can_probe()  # another WebSocket may try again


def test_upgrade_of_a_closed_session_aborts() -> None:
    state = nova()
    state.probe_opened(T0)
    state.close()
    assert state.probe_packet("2probe") is UpgradeStep.ABORT


def test_websocket_session_cannot_probe() -> None:
    assert not nova(WEBSOCKET).can_probe()


def test_abort_upgrade_while_upgrading() -> None:
    state = nova()
    state.probe_opened(T0)
    state.probe_packet("2probe")
    state.abort_upgrade()
    assert state.upgrade is Upgrade.NONE and not state.get_ends_with_noop() and state.can_probe()


def test_a_released_get_ends_with_noop_when_its_output_moved_to_the_websocket() -> None:
    state = nova()
    assert not state.released_get_ends_with_noop(False)  # plain polling: it answers its output
    state.probe_opened(T0)
    state.probe_packet("2probe")
    assert state.released_get_ends_with_noop(False)
    assert not state.released_get_ends_with_noop(True)  # output queued before the probe: deliver it
    state.probe_packet("5")
    assert state.released_get_ends_with_noop(True)  # upgraded: output goes to the WebSocket


def test_a_released_get_of_a_session_closed_while_upgrading_answers_the_close() -> None:
    state = nova()
    state.probe_opened(T0)
    state.probe_packet("2probe")
    state.close()
    state.teardown(T0, "forced close")
    assert not state.released_get_ends_with_noop(False)


# ------------------------------------------------------------------------------- any order of events

_OPS = st.sampled_from(
    ["tick", "pong", "await_connect", "connected", "overflow", "close", "close_by_client", "teardown"]
)


# The fast lane (make test-fast) asks for fewer examples; `make test` explores 300.
@settings(max_examples=int(os.environ.get("ATENDIMENTO_FUZZ_EXAMPLES", "300")), deadline=None)
@given(st.lists(st.tuples(_OPS, st.floats(0, 30)), max_size=40), st.sampled_from([POLLING, WEBSOCKET]))
def test_next_wake_is_exactly_when_tick_has_something_to_do(
    steps: list[tuple[str, float]], transport: str
) -> None:
    """Whatever happens in whatever order, ``tick`` answers nothing before ``next_wake()`` and
    something from then on: what lets the sweep skip a session with one comparison."""
    state = nova(transport)
    now = T0
    for op, advance in steps:
        now += advance
        if op == "tick":
            idle = now < state.next_wake()
            assert (state.tick(now) == ()) == idle
        elif op == "pong":
            state.pong(now)
        elif op == "await_connect":
            state.await_connect(now, 5)
        elif op == "connected":
            state.connected()
        elif op == "overflow":
            state.overflow()
        elif op in ("close", "close_by_client"):
            state.close(by_client=op == "close_by_client")
        else:
            state.teardown(now, "forced close")
    # Once closed, the only thing ever due is forgetting a lingering session.
    if state.lifecycle is Lifecycle.CLOSED:
        assert state.tick(now + 1e6) in ((), (Due.FORGET,))
