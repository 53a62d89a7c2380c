"""Connection state recovery, as socket.io 4.6+ speaks it: offsets on broadcasts, sessions kept a while.

What the wire carries (learnt from socket.io, written here from scratch):

- The ``CONNECT`` answer is ``{sid, pid}``; ``pid`` is a private session id only that client knows.
- Every broadcast ``EVENT`` (``ns.emit``, ``ns.to(...)``, ``socket.to(...)``: what goes through the
  adapter, never a plain ``socket.emit``) gets an offset string as its last argument. The client keeps
  the last string argument it processed as ``_lastOffset``.
- A client that lost its transport sends ``{...auth, pid, offset}`` in its next ``CONNECT``. If the
  session is known, within the window, and nothing it needs was dropped, the socket gets back its id,
  rooms and ``data``, the ``CONNECT`` answer carries the same ``pid`` (the client then sets
  ``recovered = true``), and every packet it missed follows, in order, once each.

Why the offsets are a per-namespace counter of this process (``<prefix><n>``): a socket receives its
broadcasts in exactly the order ``broadcast_local`` runs here, so "everything after n that matches
its rooms" is exact: what was pushed but never processed (a dying transport) and what was emitted
while it was away. The random prefix tells this log's offsets from a previous process's (a client
keeps ``_lastOffset`` across sessions): a foreign offset means "nothing processed in this log", not
a position in it.

The log is bounded by time (the window) and by the instance-wide byte budget. Trimming forgets the
packets, not who they were for: ``_trimmed_rooms`` keeps, per room, the newest offset trimmed, so a
quiet socket (nothing for it in a long while) still recovers, and a socket that needed a trimmed
packet gets a clean ``recovered = false``, never a partial replay.

``RecoveryStore`` is the port the namespace uses; ``MemoryRecoveryStore`` keeps everything in this
process. A session is single use: ``take`` removes it whether or not the restore then succeeds.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import Any, Protocol

from atendimento.engine.engineio.protocol.outgoing import Outgoing
from atendimento.engine.socketio.adapter import Target

# A saved session's own weight in the byte budget, beyond its room names (ids, dict, timestamps).
SESSION_OVERHEAD_BYTES = 512
# Rooms remembered after their packets were trimmed; past this, one floor offset stands for all.
MAX_TRIMMED_ROOMS = 100_000
MAX_PID_LENGTH = 64
MAX_OFFSET_LENGTH = 64
Clock = Callable[[], float]
_NOBODY = Target(frozenset({"\x00recovery-gap"}))  # a room no socket is ever in


@dataclass(frozen=True, slots=True)
class RecoveryConfig:
    """``Server(recovery=RecoveryConfig(...))`` turns recovery on."""

    window_seconds: float = 120.0
    max_session_packets: int = 1_000  # a session that missed more is not recoverable
    max_session_bytes: int = 1_000_000  # nor one whose missed packets weigh more (encoded size)
    max_total_bytes: int = 64 * 1024 * 1024  # per instance: packets kept plus saved sessions


@dataclass(slots=True)
class SavedSession:
    """What a socket leaves behind on a recoverable disconnect."""

    pid: str
    sid: str
    nsp: str
    rooms: frozenset[str]
    data: dict[str, Any]
    start: int  # it had processed (or been given) everything of its rooms up to this offset number
    saved_at: float  # by the store's clock (RecoveryStore.clock), never another one
    # After a hand-over from another instance (cluster/recuperacao.py) the socket was given packets
    # that are not in this log: only an offset of this log at or past this number proves the client
    # processed them all. 0: any offset will do.
    needs_offset_from: int = 0

    @property
    def weight(self) -> int:
        return SESSION_OVERHEAD_BYTES + sum(len(room) for room in self.rooms)


@dataclass(slots=True)
class Replay:
    """A restore that can go ahead: the session, and the packets to send after ``CONNECT``."""

    session: SavedSession
    packets: list[Outgoing]
    start: int  # the offset number the replay starts after (the socket's start from now on)
    needs_offset_from: int = 0  # what the restored socket's next saved session will require


class _Entry:
    __slots__ = ("at", "n", "out", "size", "target")

    def __init__(self, n: int, at: float, target: Target, out: Outgoing) -> None:
        self.n = n
        self.at = at
        self.target = target
        self.out = out
        self.size = len(out.ws) + len(out.poll)


class _Budget:
    """The instance-wide byte budget shared by every namespace's log and the saved sessions."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


class PacketLog:
    """One namespace's recent broadcasts, in the order this process delivered them."""

    def __init__(self, config: RecoveryConfig, budget: _Budget, clock: Clock = time.monotonic) -> None:
        self._config = config
        self._budget = budget
        self._clock = clock
        self.prefix = secrets.token_urlsafe(6) + "."
        self._entries: deque[_Entry] = deque()
        self.head = 0  # the last offset number issued
        self._trimmed_all = 0  # newest trimmed packet that went to every socket
        self._trimmed_rooms: dict[str, int] = {}
        self._floor = 0  # a replay from below this offset may lack packets, for any room
        self._interrupted = False

    def next_offset(self) -> tuple[int, str]:
        self.head += 1
        return self.head, self.prefix + str(self.head)

    def append(self, n: int, target: Target, out: Outgoing) -> None:
        """Keep the packet (called once per broadcast, after ``next_offset``)."""
        now = self._clock()
        entry = _Entry(n, now, target, out)
        self._entries.append(entry)
        self._budget.used += entry.size
        self.trim(now)

    def trim(self, now: float) -> None:
        entries, budget = self._entries, self._budget
        oldest = now - self._config.window_seconds
        while entries and (entries[0].at < oldest or budget.used > budget.limit):
            entry = entries.popleft()
            budget.used -= entry.size
            rooms = entry.target.rooms
            if not rooms:
                self._trimmed_all = entry.n
                continue
            for room in rooms:
                self._trimmed_rooms[room] = entry.n
            if len(self._trimmed_rooms) > MAX_TRIMMED_ROOMS:
                self._trimmed_rooms.clear()
                self._floor = entry.n

    def interrupt(self) -> None:
        """Packets meant for this log may be going missing (e.g. the cluster's link to Redis is down,
        so other instances' broadcasts don't arrive): until ``resume``, nothing is recoverable."""
        self._interrupted = True

    def resume(self) -> None:
        """The packets flow again; a replay that would span the interruption is still refused.

        The interruption takes an offset of its own (an entry for nobody), so that even a log that
        recorded nothing meanwhile tells a session from before it from one after it.
        """
        self._interrupted = False
        n, _ = self.next_offset()
        self._entries.append(_Entry(n, self._clock(), _NOBODY, Outgoing(())))
        self._floor = n

    def parse(self, offset: object) -> int | None:
        """The offset number of one of this log's offsets; None for anything else."""
        if not isinstance(offset, str) or len(offset) > MAX_OFFSET_LENGTH:
            return None
        if not offset.startswith(self.prefix):
            return None
        digits = offset[len(self.prefix) :]
        if not digits.isdigit() or not digits.isascii():
            return None
        return int(digits)

    def missed(
        self,
        sid: str,
        rooms: Set[str],
        after: int,
        max_packets: int,
        max_bytes: int,
        keep: Callable[[int], bool] | None = None,
    ) -> list[Outgoing] | None:
        """Every kept packet after ``after`` for ``rooms``/``sid``, in order; None when one may be gone
        or the bounds are exceeded (the session is then not recoverable). ``keep(n)``, when given,
        further chooses among them by offset number (a hand-over leaves out what the home gave)."""
        if self._interrupted or after < self._floor:
            return None
        entries = self._entries
        first = entries[0].n if entries else self.head + 1
        if after + 1 < first:
            # Packets after ``after`` were trimmed: fine only if none of them was for this socket.
            if self._trimmed_all > after:
                return None
            trimmed = self._trimmed_rooms
            if any(trimmed.get(room, 0) > after for room in rooms):
                return None
            index = 0
        else:
            index = after + 1 - first
        found: list[Outgoing] = []
        size = 0
        for i in range(index, len(entries)):
            target = entries[i].target
            if target.rooms and target.rooms.isdisjoint(rooms):
                continue
            if sid in target.exclude_sids or not target.exclude_rooms.isdisjoint(rooms):
                continue
            entry = entries[i]
            if keep is not None and not keep(entry.n):
                continue
            size += entry.size
            found.append(entry.out)
            if len(found) > max_packets or size > max_bytes:
                return None
        return found


class RecoveryStore(Protocol):
    """Where saved sessions and the offsets' packets live (in-process here; Redis may stand in)."""

    config: RecoveryConfig
    clock: Clock  # the time saved sessions and kept packets are stamped with (monotonic seconds)

    def log(self, nsp: str) -> PacketLog:
        """The packet log of namespace ``nsp`` (its adapter records into it)."""
        ...

    def save(self, session: SavedSession) -> None:
        """Keep ``session`` for the window (silently not, past the instance's budget)."""
        ...

    async def take(self, nsp: str, pid: object, offset: object) -> Replay | None:
        """Remove the session ``pid`` (single use) and, if it can be restored exactly, its replay."""
        ...

    def __contains__(self, pid: object) -> bool:
        """Whether this process still keeps the session ``pid`` (a drain waits for it to be taken)."""
        ...


class MemoryRecoveryStore:
    """Sessions and packet logs of this process: recovery when the client comes back to it."""

    def __init__(self, config: RecoveryConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        # Injected so that the window's expiry is tested by moving a clock, not by sleeping.
        self.clock = clock
        self._budget = _Budget(config.max_total_bytes)
        self._logs: dict[str, PacketLog] = {}
        self._sessions: OrderedDict[str, SavedSession] = OrderedDict()  # in order of saving

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def used_bytes(self) -> int:
        return self._budget.used

    def log(self, nsp: str) -> PacketLog:
        found = self._logs.get(nsp)
        if found is None:
            found = self._logs[nsp] = PacketLog(self.config, self._budget, self.clock)
        return found

    def _expire(self, now: float) -> None:
        oldest = now - self.config.window_seconds
        sessions = self._sessions
        while sessions:
            first = next(iter(sessions.values()))
            if first.saved_at >= oldest:
                break
            self._drop(first.pid)

    def _drop(self, pid: str) -> SavedSession | None:
        session = self._sessions.pop(pid, None)
        if session is not None:
            self._budget.used -= session.weight
        return session

    def save(self, session: SavedSession) -> None:
        self._expire(session.saved_at)
        self._drop(session.pid)
        for log in self._logs.values():
            log.trim(session.saved_at)  # make room from old packets first
        if self._budget.used + session.weight > self._budget.limit:
            return  # over the instance's budget: this one is simply not recoverable
        self._sessions[session.pid] = session
        self._budget.used += session.weight

    def __contains__(self, pid: object) -> bool:
        return pid in self._sessions

    async def take(self, nsp: str, pid: object, offset: object) -> Replay | None:
        return self.take_now(nsp, pid, offset)

    def take_now(
        self, nsp: str, pid: object, offset: object, keep: Callable[[int], bool] | None = None
    ) -> Replay | None:
        """``take`` without awaiting anything (a cluster's home instance answers a hand-over with it);
        ``keep`` as in ``PacketLog.missed``."""
        if not isinstance(pid, str) or len(pid) > MAX_PID_LENGTH:
            return None
        now = self.clock()
        self._expire(now)
        session = self._drop(pid)
        if session is None or session.nsp != nsp:
            return None
        if session.saved_at < now - self.config.window_seconds:
            return None  # (a session saved again after a cut-short restore keeps its first time)
        log = self.log(nsp)
        log.trim(now)
        processed = log.parse(offset)
        if processed is not None and processed > log.head:
            return None  # an offset this log never issued
        if session.needs_offset_from and (processed is None or processed < session.needs_offset_from):
            return None  # it may not have processed what a hand-over gave it
        after = max(session.start, processed or 0)
        packets = log.missed(
            session.sid,
            session.rooms,
            after,
            self.config.max_session_packets,
            self.config.max_session_bytes,
            keep,
        )
        if packets is None:
            return None
        return Replay(session, packets, after)
