"""What the bench scripts share: the Node work folder, server processes, /proc readings, percentiles.

Only the standard library, so every script runs with ``.venv/bin/python bench/<script>.py`` from the
repository root. Node packages (the pinned ones of ../shared/bench/package.json) are installed in a
folder under /tmp, never in the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

# A benchmark connects its clients all at once, past the admission budget an instance applies by
# default (ATENDIMENTO_HANDSHAKES_PER_SECOND, 100/s: a 503 the clients would retry). What is measured
# here is not admission, so the benches serve without it unless told otherwise.
os.environ.setdefault("ATENDIMENTO_HANDSHAKES_PER_SECOND", "0")

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
PYTHON = str(REPO / ".venv" / "bin" / "python")
SHARED_BENCH = Path(os.environ.get("SHARED_BENCH", str(REPO.parent / "shared" / "bench")))
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/atendimento-bench-main"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- Node ---------------------------------------------------------------------------------------


def node_workdir() -> Path:
    """WORK with the shared peer files and their pinned node_modules (installed once)."""
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("server.js", "fanout.js", "package.json"):
        target = WORK / name
        if target.exists():
            target.chmod(0o644)
        shutil.copyfile(SHARED_BENCH / name, target)
    if not (WORK / "node_modules" / "socket.io" / "package.json").is_file():
        log(f"bench: npm install in {WORK}")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=WORK,
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "npm_config_update_notifier": "false"},
        )
    return WORK


def node_env() -> dict[str, str]:
    """Environment for node scripts kept in bench/: they find the packages through NODE_PATH."""
    caminhos = [str(WORK / "node_modules")]
    if os.environ.get("BENCH_EXTRA_NODE_PATH"):  # e.g. tests/node's pinned emitter (emissores_fanout.py)
        caminhos.append(os.environ["BENCH_EXTRA_NODE_PATH"])
    return {**os.environ, "NODE_PATH": os.pathsep.join(caminhos)}


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


@contextlib.contextmanager
def server_process(
    name: str, argv: Sequence[str], port: int, env: dict[str, str] | None = None, cwd: Path = REPO
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server (argv is exec'd: its pid is the process that does the work), wait for its port,
    stop it on exit. Its output goes to WORK/<name>.log."""
    WORK.mkdir(parents=True, exist_ok=True)
    logfile = open(WORK / f"{name}.log", "wb")  # closed in the finally below
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**os.environ, **(env or {}), "PORT": str(port)},
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logfile.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (what fanout.js reads too)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    leituras = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            leituras[pid] = cpu_seconds(pid)
    return leituras


def cpu_delta(antes: dict[int, float], depois: dict[int, float]) -> tuple[float, int]:
    """CPU spent by the processes alive at both readings, and how many of the first ones ended."""
    comuns = antes.keys() & depois.keys()
    return sum(depois[p] - antes[p] for p in comuns), len(antes) - len(comuns)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- numbers ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile on a copy (q in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
    }


def node_version() -> str:
    try:
        return subprocess.run(["node", "-v"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "missing"


def dump(path: str | None, data: Any) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
        log(f"bench: results written to {path}")


# --- the real app ---------------------------------------------------------------------------------


def app_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """ATENDIMENTO_* settings for a bench instance of the real app (a temporary SQLite by default)."""
    import secrets

    env = {
        "ATENDIMENTO_DATA_DIR": str(data_dir),
        "ATENDIMENTO_DATABASE_URL": database_url or f"sqlite:///{data_dir}/bench.db",
        "ATENDIMENTO_JWT_SECRET": secrets.token_urlsafe(48),
        "ATENDIMENTO_LOG_LEVEL": "warning",
        # Every bench client comes from 127.0.0.1: the per-address session cap would refuse them.
        "ATENDIMENTO_MAX_SESSIONS_PER_ADDRESS": "0",
    }
    env.update({f"ATENDIMENTO_{k.upper()}": v for k, v in extra.items()})
    return env


def prepare_app(env: dict[str, str], atendentes: int) -> dict[str, Any]:
    """bench/gateway_server.py prepare: migrate, demo data, generated atendentes; its JSON summary."""
    out = subprocess.run(
        [PYTHON, str(BENCH / "gateway_server.py"), "prepare", "--atendentes", str(atendentes)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"prepare failed: {out.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return summary


def http_json(port: int, path: str) -> Any:
    from urllib.request import urlopen

    with urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as resp:
        return json.loads(resp.read())


def app_tokens(port: int, empresa: str, count: int) -> list[str]:
    """Tokens of ``count`` atendentes of the bench app (bench/gateway_server.py) on that port."""
    return [t["token"] for t in http_json(port, f"/bench/tokens?empresa={empresa}&count={count}")]


def run_clients(config: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    """bench/clients.js with this config; its JSON result."""
    node_workdir()
    path = WORK / f"clients-{os.getpid()}.json"
    path.write_text(json.dumps(config))
    out = subprocess.run(
        ["node", str(BENCH / "clients.js"), str(path)],
        cwd=WORK,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"clients.js failed ({out.returncode}): {out.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def peer_tokens(count: int, secret: str = "bench-secret", empresa: str = "e1") -> list[str]:
    """Tokens for the peers' wire (server.js and the reference servers): HS256 on the bench secret."""
    import warnings

    import jwt

    exp = int(time.time()) + 3600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shared bench secret is short on purpose
        return [
            jwt.encode(
                {"sub": f"u{i}", "empresaId": empresa, "role": "atendente", "nome": f"A{i}", "exp": exp},
                secret,
                algorithm="HS256",
            )
            for i in range(count)
        ]


# --- tables -------------------------------------------------------------------------------------


def markdown_table(head: Sequence[str], body: Iterable[Sequence[str]], left: int = 1) -> list[str]:
    """The lines of a Markdown table: the first ``left`` columns aligned left, the others right."""
    align = ["---"] * left + ["---:"] * (len(head) - left)
    return [f"| {' | '.join(row)} |" for row in (head, align, *body)]


def fanout_medians(rows: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(setup name, "shape (n/trigger)", median figures) for every shape of every run of clients.js."""
    for name, result in rows:
        for shape, data in result["modes"].items():
            yield name, f"{shape} ({data['count']}/trigger)", data["median"]


def connect_table(rows: list[tuple[str, dict[str, Any]]], label: str, rss: str) -> list[str]:
    """The connect figures of every run of clients.js: connects/s and RSS per connection."""
    body = [
        [name, f"{result['connect']['connectsPerSec']:,}", f"{result['connect']['rssKbPerConnection']:.1f}"]
        for name, result in rows
    ]
    return markdown_table([label, "connects/s", rss], body)
