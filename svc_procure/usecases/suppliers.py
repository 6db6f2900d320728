"""Suppliers: create, read, list, update, archive."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from kit import etag, idempotency, paging
from kit.errors import NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units, Versioned, revise
from svc_procure import commands
from svc_procure.domain import suppliers as domain
from svc_procure.domain.suppliers import MAX_LEAD_TIME_DAYS, Status, Supplier
from svc_procure.names import supplier_name
from svc_procure.ports import ProcureUnit

CURRENCY = re.compile(r"[A-Z]{3}")
E = TypeVar("E", bound=Versioned)


def check_lead_time(days: int | None, field: str, violations: Violations, *, required: bool) -> None:
    if days is None:
        if required:
            violations.add(field, "required: whole days, 0 to 365")
    elif not 0 <= days <= MAX_LEAD_TIME_DAYS:
        violations.add(field, "whole days, 0 to 365")


async def revise_if_changed(
    current: E | None,
    change: Callable[[E], E],
    save: Callable[[E, int], Awaitable[bool]],
    *,
    kind: str,
    name: str,
    given_etag: str,
) -> E:
    """`revise`, except that a change that leaves the entity as it is (archiving
    what is archived) keeps it, at the same version, once its etag is checked."""
    if current is not None and change(current) is current:
        etag.check(name, current.version, given_etag)
        return current
    return await revise(current, change, save, kind=kind, name=name, given_etag=given_etag)


class Suppliers:
    def __init__(self, units: Units[ProcureUnit]) -> None:
        self.units = units

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateSupplier) -> Supplier:
        violations = Violations()
        if not cmd.display_name.strip():
            violations.add("supplier.display_name", "required")
        if not CURRENCY.fullmatch(cmd.currency_code):
            violations.add("supplier.currency_code", "required: an ISO 4217 code such as EUR")
        check_lead_time(cmd.default_lead_time_days, "supplier.default_lead_time", violations, required=True)
        violations.raise_if_any()

        async def work(uow: ProcureUnit) -> Supplier:
            now = self.units.now()
            supplier = Supplier(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                display_name=cmd.display_name.strip(),
                contact_name=cmd.contact_name.strip(),
                contact_email=cmd.contact_email.strip(),
                contact_phone=cmd.contact_phone.strip(),
                currency_code=cmd.currency_code,
                default_lead_time_days=cmd.default_lead_time_days or 0,
                note=cmd.note,
                status=Status.ACTIVE,
                created_at=now,
                updated_at=now,
                archived_at=None,
                version=1,
            )
            await uow.suppliers.add(supplier)
            return supplier

        key = idempotency.Key(who.tenant_id, request_id, "CreateSupplier")
        return await self.units.once(key, cmd, Supplier)(work)

    async def get(self, who: Principal, supplier_id: str) -> Supplier:
        async with self.units.read() as uow:
            found = await uow.suppliers.get(who.tenant_id, supplier_id)
        if found is None:
            raise NotFound("supplier", supplier_name(supplier_id))
        return found

    async def list_suppliers(self, who: Principal, query: commands.ListQuery) -> Page[Supplier]:
        size = paging.page_size(query.page_size)
        # the query's words as `domain.matches` reads them
        filters = paging.filters_digest(query.status, query.query.casefold().split())
        cursor = paging.cursor_for(query.page_token, filters, {"name": str, "id": str})
        after = (cursor["name"], cursor["id"]) if cursor else None
        async with self.units.read() as uow:
            found = await uow.suppliers.list(who.tenant_id, query.status, after)
        hits = [
            s for s in found if domain.matches(query.query, s.display_name, s.contact_name, s.contact_email)
        ]
        return paging.page_of(
            hits[: size + 1], size, lambda s: {"name": s.display_name, "id": s.id, "f": filters}
        )

    async def update(self, who: Principal, request_id: str, cmd: commands.UpdateSupplier) -> Supplier:
        violations = Violations()
        if cmd.display_name is not None and not cmd.display_name.strip():
            violations.add("supplier.display_name", "required")
        check_lead_time(cmd.default_lead_time_days, "supplier.default_lead_time", violations, required=False)
        violations.raise_if_any()

        def pick(new: str | None, old: str) -> str:
            return old if new is None else new.strip()

        async def work(uow: ProcureUnit) -> Supplier:
            now = self.units.now()

            def change(current: Supplier) -> Supplier:
                return replace(
                    current,
                    display_name=pick(cmd.display_name, current.display_name),
                    contact_name=pick(cmd.contact_name, current.contact_name),
                    contact_email=pick(cmd.contact_email, current.contact_email),
                    contact_phone=pick(cmd.contact_phone, current.contact_phone),
                    default_lead_time_days=current.default_lead_time_days
                    if cmd.default_lead_time_days is None
                    else cmd.default_lead_time_days,
                    note=current.note if cmd.note is None else cmd.note,
                    updated_at=now,
                )

            return await revise(
                await uow.suppliers.get(who.tenant_id, cmd.supplier_id),
                change,
                uow.suppliers.save,
                kind="supplier",
                name=supplier_name(cmd.supplier_id),
                given_etag=cmd.etag,
            )

        key = idempotency.Key(who.tenant_id, request_id, "UpdateSupplier")
        return await self.units.once(key, cmd, Supplier)(work)

    async def set_archived(self, who: Principal, request_id: str, cmd: commands.SetArchived) -> Supplier:
        name = supplier_name(cmd.supplier_id)

        async def work(uow: ProcureUnit) -> Supplier:
            now = self.units.now()
            return await revise_if_changed(
                await uow.suppliers.get(who.tenant_id, cmd.supplier_id),
                lambda s: domain.archived(s, cmd.archived, now),
                uow.suppliers.save,
                kind="supplier",
                name=name,
                given_etag=cmd.etag,
            )

        operation = "ArchiveSupplier" if cmd.archived else "UnarchiveSupplier"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await self.units.once(key, cmd, Supplier)(work)
