"""Engine.IO v4 packets and polling payloads, without sockets."""

from __future__ import annotations

import pytest

from atendimento.engine.engineio.protocol import ProtocolError
from atendimento.engine.engineio.protocol import packets as eio


@pytest.mark.parametrize(
    ("text", "kind", "data"),
    [
        ("0", eio.OPEN, ""),
        ("1", eio.CLOSE, ""),
        ("2", eio.PING, ""),
        ("2probe", eio.PING, "probe"),
        ("3probe", eio.PONG, "probe"),
        ("4hello", eio.MESSAGE, "hello"),
        ("4", eio.MESSAGE, ""),
        ("5", eio.UPGRADE, ""),
        ("6", eio.NOOP, ""),
        ("4€ ünïcode", eio.MESSAGE, "€ ünïcode"),
    ],
)
def test_decode_text(text: str, kind: int, data: str) -> None:
    assert eio.decode_text(text) == eio.Packet(kind, data)


@pytest.mark.parametrize("text", ["", "7", "9x", "abc", "b", " 4hello", "x4"])
def test_decode_text_rejects_unknown_types(text: str) -> None:
    with pytest.raises(ProtocolError):
        eio.decode_text(text)


def test_binary_websocket_frame_is_a_message() -> None:
    assert eio.decode_frame(b"\x01\x02\x03\x04") == eio.Packet(eio.MESSAGE, b"\x01\x02\x03\x04")
    assert eio.decode_frame("4hi") == eio.Packet(eio.MESSAGE, "hi")


def test_decode_payload_splits_on_record_separator() -> None:
    assert eio.decode_payload(b"4hello\x1e2\x1e4world") == [
        eio.Packet(eio.MESSAGE, "hello"),
        eio.Packet(eio.PING, ""),
        eio.Packet(eio.MESSAGE, "world"),
    ]


def test_decode_payload_binary_base64() -> None:
    assert eio.decode_payload("4hello\x1ebAQIDBA==") == [
        eio.Packet(eio.MESSAGE, "hello"),
        eio.Packet(eio.MESSAGE, b"\x01\x02\x03\x04"),
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"abc", b"4a\x1e\x1e4b", b"4a\x1e", b"b!!notbase64", b"bAQI", b"\xff\xfe", b"4ok\x1ex"],
)
def test_decode_payload_rejects_invalid(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        eio.decode_payload(body)


def test_encode_payload_round_trip() -> None:
    body = eio.encode_payload(["4hello", b"\x01\x02\x03\x04", "2"])
    assert body == b"4hello\x1ebAQIDBA==\x1e2"
    assert eio.decode_payload(body) == [
        eio.Packet(eio.MESSAGE, "hello"),
        eio.Packet(eio.MESSAGE, b"\x01\x02\x03\x04"),
        eio.Packet(eio.PING, ""),
    ]


def test_encode_text() -> None:
    assert eio.encode_text(eio.PONG, "probe") == "3probe"
    assert eio.encode_text(eio.NOOP) == "6"


def test_decode_payload_caps_the_packet_count_before_decoding() -> None:
    body = "\x1e".join(["4x"] * 100)
    assert len(eio.decode_payload(body.encode(), 100)) == 100
    assert len(eio.decode_payload(body, 100)) == 100
    for over in (body + "\x1e4x", body.encode() + b"\x1e4x", "\x1e" * 5000):
        with pytest.raises(ProtocolError, match="more than 100 packets"):
            eio.decode_payload(over, 100)
    # Invalid UTF-8 past the cap: refused for its count, the cheaper check, before any decoding.
    with pytest.raises(ProtocolError, match="more than 2 packets"):
        eio.decode_payload(b"4\xff\x1e4\x1e4", 2)
