"""Granting reservations: every CreateReservation takes this one path.

Concurrent reservations of a tenant are decided together (kit.batching): a
batch (of one when alone) claims their request ids and locks the levels they
ask for, reading the holds on those levels still ACTIVE past their expiry;
the domain decides (`domain.grant_in_order`: lapsed holds expire and are
free stock, then each reservation is granted whole in arrival order, or
refused naming every short line); the same transaction writes exactly that.
A hot level is locked and committed once per batch, not once per reservation.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kit import errors, idempotency
from kit.batching import Coalescer
from kit.errors import ServiceError, Violations
from kit.identity import Principal
from kit.uow import Units
from svc_stock import commands, domain
from svc_stock.domain import (
    Provenance,
    Request,
    ReservationOutcome,
    ReservationReceipt,
    grant_in_order,
)
from svc_stock.ports import ReservationBatches, StockUnit

# Reservations decided together at most: a batch's statements grow with it,
# and its level locks are held while they run.
MAX_BATCH = 64


@dataclass(frozen=True)
class _Pending:
    """A reservation waiting for its batch, with the claim of its request id."""

    request: Request
    claim: dict[str, Any]

    @property
    def request_id(self) -> str:
        return str(self.claim["request_id"])


class _Taken:
    """The answer to a request whose id took effect before: replayed."""


_TAKEN = _Taken()
_Answer = ReservationOutcome | ServiceError | _Taken


class Granting:
    def __init__(
        self,
        units: Units[StockUnit],
        batches: ReservationBatches,
        *,
        system: Provenance,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.units = units
        self.now = units.now
        self.batches = batches
        self.system = system  # provenance of the EXPIRE movements of lapsed holds
        self._coalescer: Coalescer[_Pending, _Answer] = Coalescer(
            "reservations", self._grant, max_batch=max_batch
        )

    async def reserve(self, who: Principal, origin: Provenance, cmd: commands.Reserve) -> ReservationOutcome:
        now = self.now()
        expire_at = cmd.expiry.resolve(now, domain.DEFAULT_HOLD)
        _check(cmd, expire_at, now)
        once = self.units.once(
            idempotency.Key(who.tenant_id, origin.request_id, "CreateReservation"), cmd, ReservationReceipt
        )
        for _ in range(3):
            reservation = domain.new_reservation(who.tenant_id, cmd.reference, cmd.lines, expire_at, now)
            request = Request(reservation, tuple(str(uuid.uuid4()) for _ in cmd.lines), origin)
            claim = once.row(ReservationReceipt(reservation, request.movement_ids), now)
            answer = await self._coalescer.submit(who.tenant_id, _Pending(request, claim))
            if isinstance(answer, ServiceError):
                raise answer
            if isinstance(answer, ReservationOutcome):
                return answer
            earlier = await once.earlier()
            if earlier is not None:
                return await self._outcome_of(who.tenant_id, earlier)
            now = self.now()  # taken by a request refused since, which freed its id
        raise errors.Aborted("the request id was taken and freed again meanwhile; retry")

    async def _grant(self, tenant_id: str, batch: list[_Pending]) -> list[_Answer]:
        """Decide a batch of one tenant's reservations in one transaction. A
        request id already taken (before, or earlier in the batch) is
        answered by a replay. The batch takes its locks in every writer's
        order (`ports.ReservationBatch`), so it is not run again after a
        conflict: should the database abort it, each caller is told to retry."""
        first_of: dict[str, int] = {}
        for i, pending in enumerate(batch):
            first_of.setdefault(pending.request_id, i)
        chosen = sorted(first_of.values())
        keys = [(line.warehouse_id, line.sku) for i in chosen for line in batch[i].request.lines]
        answers: list[_Answer] = [_TAKEN] * len(batch)
        first = 0
        async with self.batches.open(tenant_id) as writing:
            now = self.now()
            claimed, locked = await writing.claim_and_lock([batch[i].claim for i in chosen], keys, now)
            decided = [i for i in chosen if batch[i].request_id in claimed]
            decision = grant_in_order(locked, [batch[i].request for i in decided], now, sweeper=self.system)
            if not decision.writes_nothing:  # else the batch keeps nothing, claims included
                dropped = [batch[decided[j]].request_id for j in decision.refusals]
                await writing.write(decision, dropped, now)
        if not decision.writes_nothing:
            first = await writing.first_sequence()  # it went with the commit
        for j, refusal in decision.refusals.items():
            answers[decided[j]] = refusal
        for j in decision.grants:
            answers[decided[j]] = decision.outcome(j, first)
        return answers

    async def _outcome_of(self, tenant_id: str, receipt: ReservationReceipt) -> ReservationOutcome:
        """The response to a replayed reservation, rebuilt from what it wrote:
        its RESERVE movements carry the level quantities right after it."""
        async with self.units.read() as uow:
            written = await uow.ledger.by_id(tenant_id, receipt.movement_ids)
            current = await uow.levels.by_key(tenant_id, [(m.warehouse_id, m.sku) for m in written])
        levels = tuple(
            dataclasses.replace(
                current.get((m.warehouse_id, m.sku)) or domain.empty_level(m.warehouse_id, m.sku),
                on_hand=m.on_hand_after,
                reserved=m.reserved_after,
                last_movement_sequence=m.sequence,
            )
            for m in written
        )
        return ReservationOutcome(receipt.reservation, tuple(written), levels)


def _check(cmd: commands.Reserve, expire_at: datetime, now: datetime) -> None:
    violations = Violations()
    if not cmd.reference.strip():
        violations.add("reservation.reference", "required")
    domain.check_line_count(len(cmd.lines), "reservation.lines", violations)
    domain.check_unique(
        [(line.warehouse_id, line.sku) for line in cmd.lines],
        "reservation.lines",
        "SKU and warehouse",
        violations,
    )
    for i, line in enumerate(cmd.lines):
        domain.check_sku(line.sku, f"reservation.lines[{i}].sku", violations)
        domain.check_positive(line.quantity, f"reservation.lines[{i}].quantity", violations)
    domain.check_hold(expire_at, now, "reservation.expire_time", violations)
    violations.raise_if_any()
