"""Readings from /proc: the CPU seconds, memory and TCP connections of processes,
the whole machine's busy time, and a meter of CPU use over an interval."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # from field 3 (state) on


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def with_descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def postgres_backends(database_urls: Sequence[str]) -> list[int]:
    """The PostgreSQL server processes serving these databases (a backend's title names its database)."""
    names = [url.rsplit("/", 1)[1].encode() for url in database_urls]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and any(name in title for name in names):
            found.append(int(entry.name))
    return found


def machine_busy() -> float:
    """CPU seconds every core has been busy since boot, whoever ran."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS  # less idle and iowait


def rss_mb(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def tcp_connections(pids: Sequence[int], remote_port: int) -> int:
    """Established TCP connections these processes hold to 127.0.0.1:<remote_port>."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    count = 0
    # gRPC opens dual-stack sockets: its IPv4 connections are listed in tcp6.
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cells = line.split()
            if cells[3] == "01" and int(cells[2].split(":")[1], 16) == remote_port and cells[9] in inodes:
                count += 1
    return count


@dataclass(frozen=True)
class Sample:
    wall: float
    client: float
    machine: float
    pids: dict[str, dict[int, float]]


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds over an interval: this process (the client), each group, the whole machine."""

    wall: float
    client: float
    groups: dict[str, float]
    machine: float

    @property
    def ours(self) -> float:
        return self.client + sum(self.groups.values())

    @property
    def others(self) -> float:
        """CPU seconds the machine spent on processes not part of this benchmark."""
        return max(self.machine - self.ours, 0.0)

    def percent(self, name: str) -> float:
        """The group's use as a percentage of one core."""
        return 100 * self.groups[name] / self.wall


class CpuMeter:
    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def sample(self) -> Sample:
        pids = {name: {pid: cpu_seconds(pid) for pid in find()} for name, find in self.groups.items()}
        return Sample(time.perf_counter(), time.process_time(), machine_busy(), pids)

    def since(self, start: Sample) -> CpuUse:
        end = self.sample()
        groups = {
            name: sum(seconds - start.pids[name].get(pid, 0.0) for pid, seconds in end.pids[name].items())
            for name in self.groups
        }
        return CpuUse(end.wall - start.wall, end.client - start.client, groups, end.machine - start.machine)
