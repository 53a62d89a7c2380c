"""py-spy on a server process during a benchmark's measured phase; bench/pyspy_top.py reads the result.

``PYSPY`` names the binary (default ``py-spy`` on PATH); without it profiling is skipped with a line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchlib import WORK, log


def iniciar_perfil(pid: int, duration: float) -> tuple[subprocess.Popen[bytes], Path] | None:
    pyspy = os.environ.get("PYSPY") or shutil.which("py-spy")
    if not pyspy:
        log("bench: --profile needs py-spy (PYSPY=/path/to/py-spy); skipped")
        return None
    out = WORK / f"pyspy-{pid}.txt"
    proc = subprocess.Popen(
        [
            pyspy,
            "record",
            "--format",
            "raw",
            "-o",
            str(out),
            "-r",
            "200",
            "-d",
            str(int(duration)),
            "-p",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, out


def terminar_perfil(perfil: tuple[subprocess.Popen[bytes], Path] | None) -> dict[str, Any] | None:
    if perfil is None:
        return None
    proc, out = perfil
    proc.wait(60)
    from pyspy_top import resumo

    return {"file": str(out), **resumo(out, 25)}
