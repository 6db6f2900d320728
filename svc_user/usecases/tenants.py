"""Tenants: the bootstrap of a tenant with its first admin, reading and renaming it."""

from __future__ import annotations

import dataclasses
import uuid

from kit import errors, etag, idempotency
from kit.auth import Principal, Role
from kit.errors import NotFound, Violations
from kit.uow import Units, revise
from svc_user import commands, crypto, domain
from svc_user.domain import Tenant, User
from svc_user.ports import UserUnit


def tenant_name(tenant_id: str) -> str:
    return f"tenants/{tenant_id}"


def tenant_etag(tenant: Tenant) -> str:
    return etag.etag(tenant_name(tenant.id), tenant.version)


class Tenancy:
    def __init__(self, units: Units[UserUnit]) -> None:
        self.units = units
        self.now = units.now

    async def create_tenant(self, cmd: commands.CreateTenant) -> tuple[Tenant, User]:
        """A tenant and its first admin (the bootstrap path, from the CLI)."""
        violations = Violations()
        domain.check_slug(cmd.slug, "slug", violations)
        email = domain.normalize_email(cmd.admin_email)
        domain.check_email(email, "email", violations)
        domain.check_password(cmd.admin_password, "password", violations, email=email)
        violations.raise_if_any()
        password_hash = await crypto.hash_password(cmd.admin_password)
        now = self.now()
        tenant = Tenant(str(uuid.uuid4()), cmd.slug, cmd.display_name or cmd.slug, now, now, 1)
        admin = User(
            id=str(uuid.uuid4()),
            tenant_id=tenant.id,
            email=email,
            display_name=cmd.admin_display_name or email,
            roles=(Role.ADMIN,),
            disabled=False,
            created_at=now,
            updated_at=now,
            last_login_at=None,
            version=1,
        )

        async def work(uow: UserUnit) -> None:
            if await uow.tenants.by_slug(cmd.slug) is not None:
                raise errors.AlreadyExists("tenant", cmd.slug, field="slug")
            await uow.tenants.add(tenant)
            await uow.users.add(admin, password_hash)

        await self.units.run(work)
        return tenant, admin

    async def get_tenant(self, who: Principal) -> Tenant:
        async with self.units.read() as uow:
            tenant = await uow.tenants.get(who.tenant_id)
        if tenant is None:
            raise NotFound("tenant", tenant_name(who.tenant_id))
        return tenant

    async def update_tenant(self, who: Principal, request_id: str, cmd: commands.UpdateTenant) -> Tenant:
        violations = Violations()
        if cmd.display_name is not None:
            if not cmd.display_name.strip():
                violations.add("tenant.display_name", "required")
            domain.check_display_name(cmd.display_name, "tenant.display_name", violations)
        violations.raise_if_any()

        def renamed(tenant: Tenant) -> Tenant:
            display_name = tenant.display_name if cmd.display_name is None else cmd.display_name
            return dataclasses.replace(tenant, display_name=display_name, updated_at=self.now())

        async def work(uow: UserUnit) -> Tenant:
            return await revise(
                await uow.tenants.get(who.tenant_id),
                renamed,
                uow.tenants.save,
                kind="tenant",
                name=tenant_name(who.tenant_id),
                given_etag=cmd.etag,
            )

        key = idempotency.Key(who.tenant_id, request_id, "UpdateTenant")
        return await self.units.once(key, cmd, Tenant)(work)
