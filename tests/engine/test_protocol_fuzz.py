"""Property tests of the parsers (Hypothesis): whatever a peer sends, the Engine.IO and Socket.IO
decoders return packets or raise ``ProtocolError``, never anything else, in bounded time and memory.

Inputs are both arbitrary (any text, any bytes) and shaped like packets (a valid header around JSON,
deep nesting, placeholders, separators, attachments in any order), since arbitrary text rarely gets
past the first character. In CI the examples are few and derandomized, so the test takes seconds
and never flakes; ``ATENDIMENTO_FUZZ_EXAMPLES=200000`` runs the long fuzz (docs/conformance.md).
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atendimento.engine.engineio.protocol import ProtocolError
from atendimento.engine.engineio.protocol import packets as eio
from atendimento.engine.socketio.protocol import packets as sio

EXAMPLES = int(os.environ.get("ATENDIMENTO_FUZZ_EXAMPLES", "100"))
LONG = EXAMPLES > 1000
SIZE = 3000 if LONG else 400  # longest arbitrary input (generating long text is what costs in CI)
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not LONG,  # CI: the same examples every run; the long fuzz explores
    deadline=None,  # time is asserted below, per call, with a bound that tolerates a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
# Per call, whatever the input: generous for a loaded 2-core machine, far below a stall.
TIME_BOUND = 0.5
# Peak allocation per call: a decoded payload is a few times its text; anything far above means a
# parser allocates from a number it read rather than from what it was sent.
MEMORY_FACTOR = 64
MEMORY_SLACK = 256 * 1024

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
placeholder = st.builds(
    lambda num, extra: {"_placeholder": True, "num": num, **extra},
    st.integers(-2, 5),
    st.dictionaries(st.sampled_from(["x", "_placeholder", "num"]), json_values, max_size=1),
)
# (opening, closing) units repeated to nest: arrays, objects, and both in turn.
NESTING_UNITS = [("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return json.dumps(draw(st.lists(json_values | placeholder, max_size=5)))
    if kind == 1:
        return json.dumps([draw(st.text(max_size=10)), draw(json_values | placeholder)])
    if kind == 2:
        opening, closing = draw(st.sampled_from(NESTING_UNITS))
        depth = draw(st.integers(1, 2000) | st.integers(sio.MAX_DEPTH - 3, sio.MAX_DEPTH + 3))
        inner = draw(st.sampled_from(["1", '"x"', "[]", '{"_placeholder":true,"num":0}']))
        text = '["e",' + opening * depth + inner + closing * depth + "]"
        return text if draw(st.booleans()) else text[: draw(st.integers(0, len(text)))]
    if kind == 3:
        return draw(st.text(alphabet='[]{}",:0123456789-_placeholdernumtrue', max_size=80))
    return json.dumps(draw(json_values))


@st.composite
def socketio_texts(draw: st.DrawFn) -> str:
    """Text shaped like a Socket.IO packet: type, attachments, namespace, ack id, JSON, each maybe broken."""
    head = draw(st.sampled_from([*"0123456789", "", "x"]))
    if draw(st.booleans()):
        head += draw(st.sampled_from(["1-", "0-", "3-", "257-", "9999999-", "-", "1", "01-"]))
    if draw(st.booleans()):
        head += draw(st.sampled_from(["/atendimento,", "/", "/x", "/a,b,", "/,"]))
    if draw(st.booleans()):
        head += str(draw(st.integers(0, 10**20)))
    return head + draw(json_texts() | st.text(max_size=30))


def bounded(fn: Any, *args: Any, size: int) -> Any:
    """Call ``fn`` checking time and peak memory; returns its result or the ProtocolError it raised."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        return fn(*args)
    except ProtocolError as exc:
        return exc
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < TIME_BOUND, (elapsed, args)
        assert peak < MEMORY_FACTOR * size + MEMORY_SLACK, (peak, size)


# --------------------------------------------------------------------------------------- Engine.IO


@FUZZ
@given(st.binary(max_size=SIZE) | st.text(max_size=SIZE).map(str.encode))
def test_engineio_payload_any_bytes(body: bytes) -> None:
    result = bounded(eio.decode_payload, body, 100, size=len(body))
    if not isinstance(result, ProtocolError):
        assert 1 <= len(result) <= 100
        assert all(isinstance(p, eio.Packet) and p.type in range(7) for p in result)


@FUZZ
@given(
    st.lists(
        st.sampled_from(["4hello", "2", "3", "6", "1", "0", "5", "b", "bAAEC", "b!!", "7", "", "4\x1e"])
        | st.text(max_size=10),
        min_size=1,
        max_size=150,
    ),
    st.integers(1, 120),
)
def test_engineio_payload_shaped(segments: list[str], cap: int) -> None:
    body = "\x1e".join(segments).encode()
    result = bounded(eio.decode_payload, body, cap, size=len(body))
    if not isinstance(result, ProtocolError):
        assert len(result) <= cap


@FUZZ
@given(st.text(max_size=SIZE) | st.binary(max_size=SIZE))
def test_engineio_frame_any(data: str | bytes) -> None:
    result = bounded(eio.decode_frame, data, size=len(data))
    assert isinstance(result, (eio.Packet, ProtocolError))


# --------------------------------------------------------------------------------------- Socket.IO


@FUZZ
@given(st.text(max_size=SIZE) | socketio_texts())
def test_socketio_decode_any_text(text: str) -> None:
    result = bounded(sio.decode, text, size=len(text.encode()))
    if isinstance(result, sio.Packet):
        assert result.type in range(7)
        assert result.nsp.startswith("/")
        assert _depth(result.data) <= sio.MAX_DEPTH


@FUZZ
@given(st.lists(socketio_texts() | st.binary(max_size=50), min_size=1, max_size=6 if LONG else 3))
def test_socketio_assembler_any_sequence(messages: list[str | bytes]) -> None:
    """Text and binary messages in any order, as one connection would send them."""
    assembler = sio.Assembler(max_bytes=1000)

    def feed() -> list[sio.Packet]:
        done = []
        for message in messages:
            packet = (
                assembler.feed_text(message) if isinstance(message, str) else assembler.feed_binary(message)
            )
            if packet is not None:
                done.append(packet)
        return done

    size = sum(len(m.encode() if isinstance(m, str) else m) for m in messages)
    result = bounded(feed, size=size)
    if not isinstance(result, ProtocolError):
        for packet in result:
            assert packet.buffers == []
            if packet.type in (sio.BINARY_EVENT, sio.BINARY_ACK):
                assert not _has_placeholder(packet.data)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    if isinstance(value, dict):
        return "_placeholder" in value or any(_has_placeholder(v) for v in value.values())
    return False
