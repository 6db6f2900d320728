"""The system under drill: `stockmesh up` on PostgreSQL databases of the drill's
own, and `stockmesh demo` to give it a tenant with realistic data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from kit import services

BASE_URL = "http://127.0.0.1:8080"
TENANT = "drill"


class DrillError(RuntimeError):
    """A step of the drill failed; the message says which and why."""


class System:
    """`stockmesh up` in `home` on the given databases, until `stop()`."""

    def __init__(self, home: Path, databases: Mapping[str, str], log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKMESH_") and k != "DATABASE_URL"}
        env["STOCKMESH_HOME"] = str(home)
        # The drill's load comes from one user at one address, far above a person's rate.
        env["STOCKMESH_GATEWAY_RATE_PER_USER"] = env["STOCKMESH_GATEWAY_RATE_PER_ADDRESS"] = "5000"
        env["STOCKMESH_GATEWAY_BURST_PER_USER"] = env["STOCKMESH_GATEWAY_BURST_PER_ADDRESS"] = "5000"
        for service, url in databases.items():
            env[f"STOCKMESH_{service.upper()}_DATABASE_URL"] = url
        self.env = env
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kit.cli", "up"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_up(timeout=120)

    def _wait_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DrillError(f"`stockmesh up` exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{BASE_URL}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise DrillError(f"`stockmesh up` was not up within {timeout:.0f} s; see {self.log}")

    def demo(self) -> None:
        command = [sys.executable, "-m", "kit.cli", "demo", "--base-url", BASE_URL, "--tenant", TENANT]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DrillError(f"`stockmesh demo` failed:\n{done.stdout}\n{done.stderr}")

    def stop(self) -> None:
        """Ctrl-C, as an operator would; killed if it does not stop within a minute."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def busy_ports() -> list[int]:
    """The default ports `stockmesh up` needs that something already holds."""
    ports = [8080, 9450, *(p for name in services.available() for p in services.ports(name))]
    found = []
    for port in ports:
        with socket.socket() as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                found.append(port)
    return found
