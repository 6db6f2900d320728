"""svc_stock's reservation batches in memory: the claim, the read of levels
and lapsed holds, and the write of a decision, on a copy of the fake store's
state that is swapped in when the batch wrote (a rolled-back batch keeps
nothing, claims included)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from kit.memory import Claim, Memory
from svc_stock import ports
from svc_stock.domain import Decision, Locked
from svc_stock.ports import Key
from tests.fakes.stock import MemoryLedger, MemoryLevels, MemoryReservations, MemoryWarehouses, StockState


class MemoryReservationBatch(ports.ReservationBatch):
    def __init__(self, state: StockState, tenant_id: str) -> None:
        self.state = state
        self.tenant_id = tenant_id
        self.written = False

    async def claim_and_lock(
        self, claims: Sequence[Mapping[str, Any]], keys: Sequence[Key], now: datetime
    ) -> tuple[set[str], Locked]:
        claimed: set[str] = set()
        for row in claims:
            existing = self.state.claims.get((row["scope"], row["request_id"]))
            if existing is None or existing.expires_at < now:
                self.state.claims[row["scope"], row["request_id"]] = Claim(
                    row["operation"], row["fingerprint"], row["expires_at"], row["result"]
                )
                claimed.add(row["request_id"])
        if not claimed:
            return claimed, Locked({}, {}, ())
        lapsed = MemoryReservations(self.state).lapsed_on(self.tenant_id, keys, now)
        held = [(line.warehouse_id, line.sku) for r in lapsed for line in r.lines]
        levels = await MemoryLevels(self.state).by_key(self.tenant_id, [*keys, *held])
        found = await MemoryWarehouses(self.state).by_id(self.tenant_id, [w for w, _ in keys])
        locked = {key: dataclasses.replace(level, last_movement_sequence=0) for key, level in levels.items()}
        return claimed, Locked(found, locked, tuple(lapsed))

    async def write(self, decision: Decision, dropped: Sequence[str], now: datetime) -> None:
        for request_id in dropped:
            del self.state.claims[self.tenant_id, request_id]
        for ended in decision.expired:
            assert await MemoryReservations(self.state).save(ended, ended.version - 1)
        for grant in decision.grants.values():
            self.state.reservations[self.tenant_id, grant.reservation.id] = grant.reservation
        for level in decision.levels.values():
            self.state.levels[self.tenant_id, level.warehouse_id, level.sku] = dataclasses.replace(
                level, last_movement_sequence=0, updated_at=now
            )
        ledger = MemoryLedger(self.state)
        self.first = await ledger.next_sequences(self.tenant_id, len(decision.movements))
        await ledger.append(self.tenant_id, decision.numbered(self.first))
        self.written = True

    async def first_sequence(self) -> int:
        return self.first


class MemoryReservationBatches(ports.ReservationBatches):
    def __init__(self, memory: Memory[StockState]) -> None:
        self.memory = memory

    @asynccontextmanager
    async def open(self, tenant_id: str) -> AsyncIterator[ports.ReservationBatch]:
        batch = MemoryReservationBatch(copy.deepcopy(self.memory.state), tenant_id)
        yield batch
        if batch.written:
            self.memory.state = batch.state
            self.memory.commits += 1
