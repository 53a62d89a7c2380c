"""The ``atendimento`` command as an operator runs it: a real process, a real port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from apoio_rede import porta_livre

PYTHON = sys.executable


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
    env["ATENDIMENTO_DATA_DIR"] = str(data_dir)
    return env


def _cli(*args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "atendimento", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _serve(data_dir: Path, port: int, *args: str) -> subprocess.Popen[str]:
    """``atendimento serve`` on that port, in the background; stdout and stderr in one pipe."""
    return subprocess.Popen(
        [PYTHON, "-m", "atendimento", "serve", "--port", str(port), *args],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 30) -> tuple[int, dict[str, object]]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _get(url)
        except OSError:
            assert process.poll() is None, "serve exited early"
            assert time.monotonic() < deadline, f"serve did not answer {url} within {seconds} s"
            time.sleep(0.1)


@pytest.mark.parametrize("command", [[], ["serve"], ["db", "upgrade"], ["demo"], ["token"]])
def test_help_says_what_each_command_does(command: list[str], tmp_path: Path) -> None:
    result = _cli(*command, "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "usage: atendimento" in result.stdout


def test_serve_answers_health_and_ready_on_the_embedded_default(tmp_path: Path) -> None:
    port = porta_livre()
    process = _serve(tmp_path, port)
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/health", process)
        assert (status, body) == (200, {"success": True, "data": {"status": "ok"}})
        status, body = _get(f"http://127.0.0.1:{port}/ready")
        assert status == 200 and body["success"] is True
        assert (tmp_path / "atendimento.db").is_file()
        assert (tmp_path / "jwt-secret").is_file()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "atendimento demo" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--jwt-secret", "too-short"], "at least 32 bytes"),
        (["serve", "--database-url", "postgresql://nobody@127.0.0.1:1/nada"], "127.0.0.1:1"),
        (["serve", "--database-url", "mysql://u@h/db"], "unsupported database URL"),
        (["serve", "--redis-url", "redis://127.0.0.1:1/0"], "Redis at redis://127.0.0.1:1/0"),
    ],
)
def test_bad_start_up_is_one_line_and_no_traceback(args: list[str], fragment: str, tmp_path: Path) -> None:
    result = _cli(*args, data_dir=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("atendimento: error:")]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_demo_then_token_then_demo_again(tmp_path: Path) -> None:
    loaded = _cli("demo", data_dir=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    token = _cli("token", "ana@demo.local", data_dir=tmp_path)
    assert token.returncode == 0, token.stderr
    assert token.stdout.count(".") == 2  # a JWT: header.claims.signature
    unknown = _cli("token", "ninguem@demo.local", data_dir=tmp_path)
    assert unknown.returncode == 2 and "no user" in unknown.stderr
    again = _cli("demo", data_dir=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = _cli("db", "upgrade", data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "database at head" in result.stdout


def test_serve_on_postgres_refuses_a_role_that_bypasses_rls(pg_database: Any, tmp_path: Path) -> None:
    result = _cli(
        "serve", "--database-url", pg_database.admin_url, "--port", str(porta_livre()), data_dir=tmp_path
    )
    assert result.returncode == 2
    assert "would bypass row-level security" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_postgres_as_the_application_role(pg_database: Any, tmp_path: Path) -> None:
    port = porta_livre()
    process = _serve(tmp_path, port, "--database-url", pg_database.app_url)
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/ready", process)
        assert status == 200 and body["success"] is True
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_serve_stops_promptly_with_a_long_poll_pending(tmp_path: Path) -> None:
    """SIGTERM with a browser tab on long-polling: the pending GET ends at once, not after pingInterval."""
    port = porta_livre()
    process = _serve(tmp_path, port)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", process)
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        with urllib.request.urlopen(base, timeout=5) as answer:
            sid = json.loads(answer.read()[1:])["sid"]
        pending = subprocess.Popen(["curl", "-s", "-m", "30", f"{base}&sid={sid}"], stdout=subprocess.PIPE)
        time.sleep(0.5)  # the GET is now parked, waiting for output
        started = time.monotonic()
        process.terminate()
        process.communicate(timeout=20)
        assert time.monotonic() - started < 5
        body, _ = pending.communicate(timeout=5)
        assert body == b"1"  # the Engine.IO close packet
    finally:
        if process.poll() is None:
            process.kill()
