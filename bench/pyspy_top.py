"""Top lists from a py-spy ``record --format raw`` file (collapsed stacks): where the CPU went.

    .venv/bin/python bench/pyspy_top.py /tmp/atendimento-bench-main/pyspy-1234.txt [N]

Prints the share of samples per package (a frame's package is charged with its own time), the top N
functions by own time, and the top N by inclusive time (a function counted once per sample even when
it recurses). Record with ``--gil``: on this machine py-spy's idle detection lets waiting threads
through (a worker blocked in ``queue.get``, the event loop in epoll), whereas a sample of the thread
holding the GIL is Python (or C called from Python) actually running, so the shares are shares of the
Python CPU. C work done without the GIL (the sqlite3 engine, the kernel) is not in them. Even so,
threads parked in a thread pool sometimes show up; a sample whose innermost frame is a line that
waits (``.get(``, ``.wait(``, ``.acquire(``, ``.select(``, ``.poll(``) is left out and counted apart.
"""

from __future__ import annotations

import linecache
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::\d+)?\)$")


_WAIT = re.compile(r"\.(get|wait|select|poll|acquire)\(")


def _source(path: str, line: int) -> str:
    """The source line of a frame, looked up on sys.path (py-spy gives paths relative to it)."""
    candidates = [path] if path.startswith("/") else [f"{base}/{path}" for base in sys.path if base]
    for candidate in candidates:
        text = linecache.getline(candidate, line)
        if text:
            return text
    return ""


def _waiting(frame: str) -> bool:
    """A leaf frame blocked on a queue, lock, event or selector: a thread waiting, not running."""
    m = re.match(r"^.*? \((?P<path>[^()]*?):(?P<line>\d+)\)$", frame)
    return bool(m and _WAIT.search(_source(m.group("path"), int(m.group("line")))))


def _package(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[0].removesuffix(".py")
    if "atendimento/" in path:
        parts = path.split("atendimento/", 1)[1].split("/")
        return "atendimento." + parts[0].removesuffix(".py") if len(parts) > 1 else "atendimento"
    return path.split("/", 1)[0] or "?"


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("path")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m.group('func')} ({path})"


def resumo(path: Path, n: int = 25) -> dict[str, Any]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = waiting = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        leaf = frames[-1]
        if _waiting(leaf):
            waiting += count
            continue
        total += count
        own[_short(leaf)] += count
        m = _FRAME.match(leaf)
        packages[_package(m.group("path")) if m else "?"] += count
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += count

    def pct(c: int) -> str:
        return f"{100 * c / total:5.1f}%" if total else "  -  "

    lines = [f"samples: {total} (left out as waiting: {waiting})", "", "own time by package:"]
    lines += [f"  {pct(c)}  {name}" for name, c in packages.most_common(15)]
    lines += ["", f"top {n} functions by own time:"]
    lines += [f"  {pct(c)}  {name}" for name, c in own.most_common(n)]
    lines += ["", f"top {n} functions by inclusive time:"]
    lines += [f"  {pct(c)}  {name}" for name, c in inclusive.most_common(n)]
    return {
        "samples": total,
        "waiting_samples": waiting,
        "packages": packages.most_common(15),
        "own": own.most_common(n),
        "inclusive": inclusive.most_common(n),
        "text": "\n".join(lines),
    }


if __name__ == "__main__":
    print(resumo(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25)["text"])
