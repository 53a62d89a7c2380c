"""The recovery store and packet log alone (no sockets): offsets, trimming, bounds, single use."""

from __future__ import annotations

from atendimento.engine import Target
from atendimento.engine.engineio.protocol.outgoing import message
from atendimento.engine.socketio.protocol.packets import encode_event
from atendimento.engine.socketio.recovery import MemoryRecoveryStore, RecoveryConfig, SavedSession

NS = "/x"


def _emit(store: MemoryRecoveryStore, target: Target, *args: object) -> str:
    log = store.log(NS)
    n, offset = log.next_offset()
    log.append(n, target, message(encode_event(NS, "e", (*args, offset))))
    return offset


def _save(store: MemoryRecoveryStore, pid: str, rooms: set[str], start: int) -> None:
    salas = frozenset(rooms | {"s1"})
    store.save(
        SavedSession(pid=pid, sid="s1", nsp=NS, rooms=salas, data={}, start=start, saved_at=store.clock())
    )


def _texts(replay: object) -> list[str]:
    assert replay is not None
    return [p.packets[0] for p in replay.packets]  # type: ignore[attr-defined]


async def test_replays_after_the_clients_offset_for_its_rooms_only() -> None:
    store = MemoryRecoveryStore(RecoveryConfig())
    primeiro = _emit(store, Target.room("a"), 1)
    _save(store, "p", {"a"}, start=0)
    _emit(store, Target.room("b"), 2)
    _emit(store, Target.room("a"), 3)
    _emit(store, Target(exclude_sids=frozenset({"s1"})), 4)
    _emit(store, Target(), 5)
    replay = await store.take(NS, "p", primeiro)
    textos = _texts(replay)
    assert len(textos) == 2 and '"e",3,' in textos[0] and '"e",5,' in textos[1]
    assert await store.take(NS, "p", primeiro) is None  # single use


async def test_a_quiet_socket_recovers_although_other_rooms_packets_were_trimmed() -> None:
    store = MemoryRecoveryStore(RecoveryConfig(max_total_bytes=3000))
    _save(store, "quieto", {"a"}, start=0)
    _save(store, "ocupado", {"b"}, start=0)
    for i in range(100):  # far past the budget: the first ones are trimmed
        _emit(store, Target.room("b"), i, "x" * 50)
    assert store.log(NS)._entries[0].n > 1
    assert _texts(await store.take(NS, "quieto", None)) == []  # nothing was for it: recovered
    assert await store.take(NS, "ocupado", None) is None  # some of its packets are gone: not at all


async def test_an_offset_from_another_log_means_nothing_processed_here() -> None:
    store = MemoryRecoveryStore(RecoveryConfig())
    _save(store, "p", {"a"}, start=0)
    _emit(store, Target.room("a"), 1)
    assert len(_texts(await store.take(NS, "p", "outro-processo.99"))) == 1


async def test_an_offset_never_issued_is_refused() -> None:
    store = MemoryRecoveryStore(RecoveryConfig())
    _save(store, "p", {"a"}, start=0)
    assert await store.take(NS, "p", store.log(NS).prefix + "7") is None


async def test_interrupted_logs_refuse_until_resumed_and_then_whatever_spans_the_gap() -> None:
    store = MemoryRecoveryStore(RecoveryConfig())
    log = store.log(NS)
    _save(store, "antes", {"a"}, start=0)
    log.interrupt()
    _save(store, "durante", {"a"}, start=0)
    assert await store.take(NS, "durante", None) is None
    log.resume()
    assert await store.take(NS, "antes", None) is None
    _save(store, "depois", {"a"}, start=log.head)
    assert _texts(await store.take(NS, "depois", None)) == []


async def test_sessions_expire_with_the_window_and_the_budget_bounds_them() -> None:
    agora = [1000.0]
    store = MemoryRecoveryStore(
        RecoveryConfig(window_seconds=10, max_total_bytes=65536), clock=lambda: agora[0]
    )
    _save(store, "p", {"a"}, start=0)
    agora[0] += 11  # past the window, without sleeping
    assert await store.take(NS, "p", None) is None
    for i in range(1000):  # 512+ bytes each: the budget holds about a hundred
        _save(store, f"p{i}", {"a"}, start=0)
    assert 0 < len(store) < 200
    assert store.used_bytes <= 65536
