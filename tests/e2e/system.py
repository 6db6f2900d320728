"""The real system for end-to-end tests: `stockmesh up` as a user runs it (five
services and the gateway, on the default ports, SQLite in a fresh
STOCKMESH_HOME), stopped with SIGINT as Ctrl-C would stop it; it must exit 0
and leave no process behind. `stockmesh demo` loads the demo tenant into it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kit import services

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://127.0.0.1:8080"
SERVICES = services.available()
GRPC_PORTS = {name: services.ports(name)[0] for name in SERVICES}
PORTS = (8080, 9450, *(port for name in SERVICES for port in services.ports(name)))
TENANT = "demo"


@dataclass
class System:
    home: Path
    env: dict[str, str]
    log: Path
    children: list[int]


def environment(home: Path) -> dict[str, str]:
    """This environment without any stockmesh setting or shared server, so the
    run uses its own home, SQLite and no Redis, whatever the caller has set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STOCKMESH_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env["STOCKMESH_HOME"] = str(home)
    return env


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[1]), fields[0], command.strip())
    return found


def wait_up(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`stockmesh up` exited with {process.returncode}:\n{tail(log)}", pytrace=False)
        if "all up" in log.read_text(errors="replace"):
            return
        try:
            if httpx.get(f"{BASE_URL}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`stockmesh up` was not up within {timeout:.0f} s:\n{tail(log)}", pytrace=False)


def children_of(pid: int) -> list[int]:
    return [child for child, (parent, _, _) in processes().items() if parent == pid]


def shut_down(process: subprocess.Popen[bytes], children: list[int]) -> tuple[int, list[int]]:
    """SIGINT, as Ctrl-C; returns the exit code and the children still alive
    afterwards, which are then killed so no test leaves processes behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    table = processes()
    left = [pid for pid in children if pid in table and table[pid][1] != "Z"]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return process.returncode, left


@contextmanager
def running(home: Path) -> Iterator[System]:
    """`stockmesh up` in `home`, for the length of the with block."""
    busy = [port for port in PORTS if listening(port)]
    if busy:
        pytest.fail(
            f"default port(s) {', '.join(map(str, busy))} already in use: this test runs the real "
            "`stockmesh up`, which listens on 50051-50055, 8080 and 9450-9455; stop whatever holds them",
            pytrace=False,
        )
    env = environment(home)
    log = home / "up.log"
    with log.open("wb") as out:
        # Its own session: only the SIGINT sent below reaches it, as Ctrl-C would.
        process = subprocess.Popen(
            [sys.executable, "-m", "kit.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_up(process, log, timeout=120)
    except BaseException:
        shut_down(process, children_of(process.pid))
        raise
    children = children_of(process.pid)
    try:
        yield System(home, env, log, children)
    finally:
        code, left = shut_down(process, children)
    assert code == 0, f"`stockmesh up` exited with {code} after SIGINT:\n{tail(log)}"
    assert not left, f"processes left behind after `stockmesh up` stopped: {left}"
    last = log.read_text().rstrip().splitlines()[-1]
    assert last == "stockmesh up: stopped: every process has exited.", tail(log)


def run(command: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Runs a command as a script would: no terminal, output captured."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def demo(system: System) -> subprocess.CompletedProcess[str]:
    """`stockmesh demo` against the running system: the demo tenant, its users and data."""
    command = [sys.executable, "-m", "kit.cli", "demo", "--base-url", BASE_URL, "--tenant", TENANT]
    return run(command, system.env)
