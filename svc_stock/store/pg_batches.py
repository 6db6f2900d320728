"""Reservation batches on PostgreSQL: two prepared statements on psycopg's
own connection (`Database.driver_transaction`), BEGIN sent with the first
and COMMIT with the second, for any number of reservations; the hot path of
the service, where SQLAlchemy's cost per statement showed. Rows travel as
one JSON parameter per table, read with the table's own row type: encoding a
batch is one msgspec call. The same reads and writes as `batches`, in the
same lock order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import msgspec
import psycopg

from kit.db import Database
from kit.driver import Statement, Transaction
from svc_stock import ports
from svc_stock.domain import Decision, Level, Line, Locked, ReservationState, WarehouseState, WarehouseStatus
from svc_stock.ports import Key
from svc_stock.store import feed
from svc_stock.store.reservations import reservation_of
from svc_stock.store.tables import line_rows


def _compose(*fragments: str) -> str:
    """A statement made of constant SQL fragments (never of input), without
    its comments and runs of blanks: PostgreSQL keeps its text with the
    prepared statement, and shows it in pg_prepared_statements."""
    text = "".join(fragments)
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return " ".join(" ".join(lines).split())


# Every row these statements touch is found by its key, one key at a time:
# a LATERAL subquery that locks (FOR UPDATE) or sorts (ORDER BY) stays a
# subquery of its own, run once per outer row, and is never merged into a
# join that PostgreSQL could plan as a scan. So their one plan does not
# depend on the values, and each hot-path connection plans them once, on
# their first run (`kit.db`: a generic plan), with whatever statistics the
# tables have then; on a new database, none. Joined freely, the lookups
# then became scans of the tenant's every reservation, line, claim and
# level, 12,000 pages a batch after 20,000 reservations, until the next
# ANALYZE. `tests/integration/stock/test_batch_plans.py` caches the plans on
# empty tables and runs them on a long history. A plan cached on small
# tables never analyzed may still take any tenant-prefixed index for each
# lookup (every index looks like one row): autovacuum's ANALYZE, which makes
# PostgreSQL plan again with statistics, is what keeps that from lasting
# (docs/stock.md).
#
# Claims first; then the lapsed holds on the asked levels: the tenant's
# ACTIVE holds past expire_at (`due`: few rows, whatever the history), those
# with a line on an asked level, each locked in id order and re-checked as
# still ACTIVE once a concurrent sweep commits; then their lines; then the
# asked levels and those of the lapsed holds' lines, locked one by one in
# (warehouse_id, sku) order. Each step waits for the whole of the one before
# (count(*)): no level is locked before every claim and reservation row.
# Nothing is locked when no claim is new.
# `due` is bounded below too (`> '-infinity'`, true of every hold): for a
# time it does not know, a generic plan counts a third of the active holds
# at or before it, but a bounded range as 0.5 % of them. Counted as a third,
# 40,000 of them, the plan's cost passed jit_above_cost, and planned with
# statistics it could scan the table.
# A lookup of a reservation's lines is sorted by line_no, the primary key's
# order, which picks that index: on empty tables every index looks alike,
# and the one that looks cheapest, (tenant_id, warehouse_id, sku), reads the
# lines of every reservation of the tenant.
CLAIM_AND_LOCK = _compose("""
WITH claim AS (
    INSERT INTO idempotency_records
    SELECT * FROM json_populate_recordset(NULL::idempotency_records, %(claims)s::json)
    ON CONFLICT (scope, request_id) DO NOTHING
    RETURNING request_id
),
asked AS (SELECT * FROM json_to_recordset(%(keys)s::json) AS k(warehouse_id text, sku text)),
due AS MATERIALIZED (
    SELECT id FROM reservations
    WHERE tenant_id = %(tenant_id)s AND state = 'active' AND expire_at <= %(now)s AND expire_at > '-infinity'
),
lapsed AS (
    SELECT r.* FROM (
        SELECT DISTINCT due.id FROM due CROSS JOIN LATERAL (
            SELECT n.warehouse_id, n.sku FROM reservation_lines AS n
            WHERE n.tenant_id = %(tenant_id)s AND n.reservation_id = due.id ORDER BY n.line_no
        ) AS n
        JOIN asked AS k ON k.warehouse_id = n.warehouse_id AND k.sku = n.sku
        WHERE (SELECT count(*) FROM claim) > 0
        ORDER BY due.id
    ) AS d CROSS JOIN LATERAL (
        SELECT * FROM reservations AS r
        WHERE r.tenant_id = %(tenant_id)s AND r.id = d.id AND r.state = 'active' AND r.expire_at <= %(now)s
        FOR UPDATE
    ) AS r
),
held AS (
    SELECT n.* FROM lapsed CROSS JOIN LATERAL (
        SELECT * FROM reservation_lines AS n
        WHERE n.tenant_id = %(tenant_id)s AND n.reservation_id = lapsed.id ORDER BY n.line_no
    ) AS n
),
locked AS (
    SELECT l.* FROM (
        SELECT warehouse_id, sku FROM asked UNION SELECT warehouse_id, sku FROM held ORDER BY 1, 2
    ) AS k CROSS JOIN LATERAL (
        SELECT * FROM stock_levels AS l
        WHERE l.tenant_id = %(tenant_id)s AND l.warehouse_id = k.warehouse_id AND l.sku = k.sku
        FOR UPDATE
    ) AS l
    WHERE (SELECT count(*) FROM lapsed) >= 0 AND (SELECT count(*) FROM claim) > 0
)
SELECT json_build_array(
    (SELECT json_agg(request_id) FROM claim),
    (SELECT json_agg(r) FROM lapsed AS r),
    (SELECT json_agg(n) FROM held AS n),
    (SELECT json_agg(l) FROM locked AS l),
    (SELECT json_agg(json_build_array(h.id, h.code, h.status)) FROM warehouses AS h
     WHERE h.tenant_id = %(tenant_id)s AND h.id IN (SELECT warehouse_id FROM asked))
)::text
""")
CLAIM_AND_LOCK_SQL = Statement(
    "stock_claim_and_lock",
    CLAIM_AND_LOCK,
    {"tenant_id": "text", "now": "timestamptz", "claims": "json", "keys": "json"},
)

# The claims of `dropped` request ids, made by this transaction.
DROP_CLAIMS = """
DELETE FROM idempotency_records AS i
USING json_array_elements_text(%(dropped)s::json) AS u(request_id) CROSS JOIN LATERAL (
    SELECT x.ctid FROM idempotency_records AS x
    WHERE x.scope = %(tenant_id)s AND x.request_id = u.request_id ORDER BY x.request_id
) AS x
WHERE i.ctid = x.ctid
"""

# The decision as decided: every level it changed was locked by the first
# statement, and so were the lapsed holds it ends; the claims it drops were
# made by this transaction. Claims and levels are found by key (LATERAL, as
# above), then written by their ctid, which no other transaction can change
# under our locks; the lapsed holds by their key, bounded as `due` is. The
# sequence row is locked last; the last SELECT announces the append to live
# streams (`feed`), delivered on commit.
WRITE = _compose(
    """
WITH dropped AS (""",
    DROP_CLAIMS,
    """),
ended AS (
    UPDATE reservations AS r SET state = e.state, updated_at = e.updated_at, ended_at = e.ended_at,
        version = e.version
    FROM json_populate_recordset(NULL::reservations, %(ended)s::json) AS e
    WHERE r.tenant_id = %(tenant_id)s AND r.id = e.id AND r.state = 'active'
        AND r.expire_at <= %(now)s AND r.expire_at > '-infinity'
),
header AS (
    INSERT INTO reservations SELECT * FROM json_populate_recordset(NULL::reservations, %(reservations)s::json)
),
lines AS (
    INSERT INTO reservation_lines
    SELECT * FROM json_populate_recordset(NULL::reservation_lines, %(lines)s::json)
),
changed AS (
    UPDATE stock_levels AS l SET on_hand = d.on_hand, reserved = d.reserved, version = d.version,
        updated_at = d.updated_at
    FROM json_populate_recordset(NULL::stock_levels, %(levels)s::json) AS d CROSS JOIN LATERAL (
        SELECT x.ctid FROM stock_levels AS x
        WHERE x.tenant_id = %(tenant_id)s AND x.warehouse_id = d.warehouse_id AND x.sku = d.sku
        ORDER BY x.sku
    ) AS x
    WHERE l.ctid = x.ctid
    RETURNING 1
),
sequence AS (
    INSERT INTO ledger_sequences SELECT %(tenant_id)s, %(count)s FROM (SELECT count(*) FROM changed) AS c
    ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = ledger_sequences.last_sequence + %(count)s
    RETURNING last_sequence - %(count)s + 1 AS first
),
written AS (
    INSERT INTO movements
    SELECT %(tenant_id)s, m.id, s.first + m.sequence, m.type, m.warehouse_id, m.sku,
        m.quantity_delta, m.reserved_delta, m.on_hand_after, m.reserved_after, m.reason, m.note,
        m.reference, m.reservation_id, m.counterpart_warehouse_id, m.user_id, m.caller,
        m.request_id, m.trace_id, m.effective_at, m.created_at
    FROM json_populate_recordset(NULL::movements, %(movements)s::json) AS m CROSS JOIN sequence AS s
)
SELECT s.first, (SELECT count(*) FROM changed), """,
    feed.NOTIFY_SQL,
    """ FROM sequence AS s
""",
)
WRITE_SQL = Statement(
    "stock_write_batch",
    WRITE,
    {
        "tenant_id": "text",
        "now": "timestamptz",
        "count": "bigint",
        "dropped": "json",
        "ended": "json",
        "reservations": "json",
        "lines": "json",
        "levels": "json",
        "movements": "json",
    },
)


class PgReservationBatch(ports.ReservationBatch):
    def __init__(self, transaction: Transaction, tenant_id: str) -> None:
        self.transaction = transaction
        self.tenant_id = tenant_id
        self.written = False
        self.first = 0

    async def claim_and_lock(
        self, claims: Sequence[Mapping[str, Any]], keys: Sequence[Key], now: datetime
    ) -> tuple[set[str], Locked]:
        # Sorted: two batches claiming the same ids take them in the same order.
        ordered = sorted(claims, key=lambda c: (c["scope"], c["request_id"]))
        params = {
            "tenant_id": self.tenant_id,
            "now": now,
            "claims": _json([{**c, "result": _bytea(c["result"])} for c in ordered]),
            "keys": _json([{"warehouse_id": w, "sku": sku} for w, sku in sorted(set(keys))]),
        }
        row = await self.transaction.run(CLAIM_AND_LOCK_SQL, params)
        assert row is not None
        found = _read_found(row[0])
        lines_of: dict[str, list[Line]] = {}
        for n in sorted(found.held or (), key=lambda n: (n.reservation_id, n.line_no)):
            lines_of.setdefault(n.reservation_id, []).append(Line(n.warehouse_id, n.sku, n.quantity))
        return set(found.claimed or ()), Locked(
            {w: WarehouseState(w, code, status) for w, code, status in found.warehouses or ()},
            {(v.warehouse_id, v.sku): v for v in found.locked or ()},
            tuple(reservation_of(r, lines_of.get(r.id, [])) for r in found.lapsed or ()),
        )

    async def write(self, decision: Decision, dropped: Sequence[str], now: datetime) -> None:
        granted = [g.reservation for g in decision.grants.values()]
        params = {
            "tenant_id": self.tenant_id,
            "now": now,
            "count": len(decision.movements),
            "dropped": _json(sorted(dropped)),
            # The domain's values as they are: their fields are the tables'
            # columns (tests/unit/test_stock_batches.py), tenant_id aside.
            "ended": _json(decision.expired),
            "reservations": _json(granted),
            "lines": _json([row for r in granted for row in line_rows(r)]),
            "levels": _json(list(decision.levels.values())),
            "movements": _json(decision.movements),
        }
        # With the COMMIT: one round trip for both while the level locks are held.
        row = await self.transaction.run(WRITE_SQL, params, commit=True)
        assert row is not None
        first, changed, _announced = row
        if changed != len(decision.levels):  # pragma: no cover - the levels were locked by claim_and_lock
            raise RuntimeError(f"{changed} of {len(decision.levels)} levels changed")
        self.first = int(first)
        self.written = True

    async def first_sequence(self) -> int:
        return self.first


class PgReservationBatches(ports.ReservationBatches):
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def open(self, tenant_id: str) -> AsyncIterator[ports.ReservationBatch]:
        async with self.db.driver_transaction() as transaction:
            batch = PgReservationBatch(transaction, tenant_id)
            yield batch
            if not batch.written:
                # A batch that writes nothing (all refused) keeps nothing,
                # its claims included.
                raise psycopg.Rollback()


class _HoldRow(msgspec.Struct, frozen=True):
    """A `reservations` row, as the claim statement reads it."""

    tenant_id: str
    id: str
    reference: str
    state: ReservationState
    expire_at: datetime
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    version: int


class _LineRow(msgspec.Struct, frozen=True):
    """A `reservation_lines` row, as the claim statement reads it."""

    reservation_id: str
    line_no: int
    warehouse_id: str
    sku: str
    quantity: int


class _Found(msgspec.Struct, frozen=True, array_like=True):
    """What the claim statement returns, one JSON array: the request ids it
    claimed, the lapsed holds and their lines, the levels it locked (read
    straight into `Level`: its fields are the columns), and the warehouses
    as (id, code, status). PostgreSQL aggregates no row as null."""

    claimed: list[str] | None
    lapsed: list[_HoldRow] | None
    held: list[_LineRow] | None
    locked: list[Level] | None
    warehouses: list[tuple[str, str, WarehouseStatus]] | None


# One typed decode, in C: parsing the rows as dicts and building the domain's
# values from them in Python cost more than the rest of reading them.
_read_found = msgspec.json.Decoder(_Found).decode


def _bytea(value: bytes | None) -> str | None:
    # json_populate_recordset reads bytea in PostgreSQL's hex format.
    return None if value is None else "\\x" + value.hex()


def _json(rows: object) -> str:
    return msgspec.json.encode(rows).decode()
