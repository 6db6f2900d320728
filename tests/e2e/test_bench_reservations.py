"""`make bench ARGS="--against REV"`: the reservation benchmark runs the
services of another revision beside this checkout's and compares them round
by round, as the docs tell a contributor who touches the hot path to do."""

from __future__ import annotations

import re
import subprocess
import sys

from tests import harness


def test_the_reservation_benchmark_compares_this_checkout_with_another_revision_round_by_round() -> None:
    harness.require_postgres()
    command = [sys.executable, "-m", "bench.reservations", "--against", "HEAD", "--rounds", "2"]
    tiny = ["--seconds", "0.5", "--clients", "2", "--skus", "3", "--replicas", "1", "--warmup", "0"]
    done = subprocess.run(
        [*command, *tiny], cwd=harness.ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    row = r"^(hot SKU|3 SKUs)\s+2 (this checkout|HEAD)\s+(\d+) .* (\d+)$"
    runs = re.findall(row, done.stdout, re.MULTILINE)
    # Two rounds of two workloads on two codes, every call granted.
    assert len(runs) == 8, done.stdout
    assert {(workload, code) for workload, code, _, _ in runs} == {
        (w, c) for w in ("hot SKU", "3 SKUs") for c in ("this checkout", "HEAD")
    }
    assert all(int(rate) > 0 and failed == "0" for _, _, rate, failed in runs), done.stdout
    # Each round puts the other code first.
    first_codes = [runs[0][1], runs[4][1]]
    assert first_codes == ["this checkout", "HEAD"], done.stdout
    summary = done.stdout.split("this checkout / HEAD, full-stack rate in the same round")[1]
    assert re.search(r"hot SKU\s+2 \d+\.\d\d \(", summary), done.stdout
    assert re.search(r"3 SKUs\s+2 \d+\.\d\d \(", summary), done.stdout
