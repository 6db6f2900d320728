"""`ci/dr-drill`: the disaster-recovery drill, end to end on the local PostgreSQL.

1. `stockmesh up` on five new databases, the demo tenant loaded.
2. Clerks' traffic (orders, shipments, cancellations, receipts), journaled.
3. While it flows: pg_dump of each database, callers before callees.
4. More traffic, then the disaster: the system stops; what came after each
   snapshot is gone.
5. pg_restore into five new databases; `stockmesh up` on the copies.
6. Checks: which acknowledged requests were lost; retrying every request
   acknowledged after the first snapshot, with its request id, applies each
   exactly once; reconcile finds no drift; every order matches its reservation.
7. Figures: backup size and time, restore time, and the data lost (RPO).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tools.dr import checks, databases, load
from tools.dr.system import DrillError, System, busy_ports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ci/dr-drill", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=9.0, help="traffic before, during and after the backup"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases and the work folder")
    args = parser.parse_args(argv)
    if busy := busy_ports():
        print(
            f"dr-drill: ports {', '.join(map(str, busy))} are in use; stop `make up` first", file=sys.stderr
        )
        return 2
    try:
        return asyncio.run(drill(args.seconds, keep=args.keep))
    except DrillError as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1


async def drill(seconds: float, *, keep: bool) -> int:
    run = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix=f"stockmesh-dr-{run}-"))
    live_prefix, restored_prefix = f"dr_{run}_live", f"dr_{run}_restored"
    try:
        journal, dumps, disaster = await before_the_disaster(work, databases.create(live_prefix), seconds)
        clock = time.monotonic()
        restored = databases.create(restored_prefix)
        for backup in dumps:
            databases.restore(backup, restored[backup.service])
        restore_seconds = time.monotonic() - clock
        findings, missing, retried = await after_the_restore(work, restored, journal, dumps)
    finally:
        if not keep:
            databases.drop(live_prefix)
            databases.drop(restored_prefix)
            shutil.rmtree(work, ignore_errors=True)
    report(journal, dumps, disaster, restore_seconds, findings, missing, retried)
    return 1 if findings.problems else 0


async def before_the_disaster(
    work: Path, live: dict[str, str], seconds: float
) -> tuple[load.Journal, list[databases.Dump], float]:
    system = System(work / "home", live, work / "up.log")
    journal = load.Journal()
    try:
        system.demo()
        stop = asyncio.Event()
        clerk = await load.session("clerk")
        traffic = asyncio.create_task(load.run(clerk, journal, stop))
        await asyncio.sleep(seconds / 3)
        dumps = [
            await asyncio.to_thread(databases.dump, service, live[service], work)
            for service in databases.BACKUP_ORDER
        ]
        await asyncio.sleep(seconds / 3)  # written after the snapshots: what the disaster takes
        stop.set()
        await traffic
        await clerk.aclose()
        disaster = time.time()
    finally:
        system.stop()
    return journal, dumps, disaster


async def after_the_restore(
    work: Path, restored: dict[str, str], journal: load.Journal, dumps: list[databases.Dump]
) -> tuple[checks.Findings, list[load.Request], list[load.Request]]:
    system = System(work / "home", restored, work / "up.log")
    findings = checks.Findings()
    try:
        clerk, admin = await load.session("clerk"), await load.session("admin")
        first_snapshot = min(d.started for d in dumps)
        missing = await checks.lost(admin, journal)
        for request in missing:
            if request.acked < first_snapshot:
                findings.fail(
                    f"{request.kind} {request.request_id} was acknowledged before every snapshot but is gone"
                )
        # The callers retry what they cannot confirm: everything acknowledged after the first
        # snapshot, in the order it was first sent, with the same request id.
        retried = [r for r in journal.acked() if r.acked >= first_snapshot]
        renamed: dict[str, str] = {}  # an order lost and made again gets a new name
        for request in retried:
            order = request.path.removeprefix("/v1/").rsplit(":", 1)[0]
            if order in renamed:
                request.path = request.path.replace(order, renamed[order])
            first_name = request.answer.get("order", {}).get("name")
            if refused := await load.send(clerk, request):
                findings.fail(f"retrying {request.kind} {request.request_id} was refused: {refused}")
            elif request.kind == "order" and first_name != request.answer["order"]["name"]:
                renamed[first_name] = request.answer["order"]["name"]
        await checks.exactly_once(admin, journal, findings)
        await checks.no_drift(admin, findings)
        await checks.orders_match_reservations(admin, journal, findings)
        await clerk.aclose()
        await admin.aclose()
    finally:
        system.stop()
    return findings, missing, retried


def report(
    journal: load.Journal,
    dumps: list[databases.Dump],
    disaster: float,
    restore_seconds: float,
    findings: checks.Findings,
    missing: list[load.Request],
    retried: list[load.Request],
) -> None:
    first = min(d.started for d in dumps)
    size = sum(d.size for d in dumps)
    each = ", ".join(f"{d.service} {d.seconds:.2f} s" for d in dumps)
    print(f"traffic   {len(journal.requests)} requests, {len(journal.acked())} acknowledged")
    took = sum(d.seconds for d in dumps)
    print(f"backup    5 databases, {size / 1e6:.2f} MB, {took:.2f} s while traffic flowed ({each})")
    print(f"restore   {restore_seconds:.2f} s into 5 new databases")
    print(
        f"RPO       {disaster - first:.1f} s (first snapshot to the disaster): "
        f"{len(retried)} writes acknowledged in it, {len(missing)} missing after the restore, "
        "all retried with their request ids"
    )
    print(
        f"checks    reconcile: {findings.levels_checked} levels; {findings.orders_checked} drill orders "
        f"against their reservations; {len(journal.acked())} acknowledged requests held once each"
    )
    for problem in findings.problems:
        print(f"PROBLEM   {problem}")
    print("drill passed" if not findings.problems else f"drill FAILED: {len(findings.problems)} problems")
