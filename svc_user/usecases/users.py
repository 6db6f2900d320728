"""Users of a tenant: reading and listing them, creating them, changing their
names, roles and access, and their passwords."""

from __future__ import annotations

import dataclasses
import uuid

from kit import errors, etag, idempotency, paging
from kit.auth import Principal, Role
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from kit.paging import Page
from kit.uow import Units, revise
from svc_user import commands, crypto, domain
from svc_user.domain import User
from svc_user.ports import UserUnit
from svc_user.usecases import Done


def user_name(user_id: str) -> str:
    return f"users/{user_id}"


def user_etag(user: User) -> str:
    return etag.etag(user_name(user.id), user.version)


class UserAccounts:
    def __init__(self, units: Units[UserUnit]) -> None:
        self.units = units
        self.now = units.now

    async def current_user(self, who: Principal) -> User:
        return await self.get_user(who, who.user_id)

    async def get_user(self, who: Principal, user_id: str) -> User:
        if user_id != who.user_id and not who.holds_any(frozenset({Role.MANAGER})):
            raise errors.PermissionDenied("only admins and managers see other users", reason="ROLE_REQUIRED")
        async with self.units.read() as uow:
            user = await uow.users.get(who.tenant_id, user_id)
        if user is None:
            raise NotFound("user", user_name(user_id))
        return user

    async def list_users(self, who: Principal, query: commands.ListUsers) -> Page[User]:
        size = paging.page_size(query.page_size)
        filters = paging.filters_digest(query.role, query.show_disabled)
        cursor = paging.cursor_for(query.page_token, filters, {"after_email": str})
        async with self.units.read() as uow:
            found = await uow.users.page_by_email(
                who.tenant_id,
                after_email=cursor["after_email"] if cursor else "",
                limit=size + 1,
                role=query.role,
                show_disabled=query.show_disabled,
            )
        return paging.page_of(found, size, lambda user: {"after_email": user.email, "f": filters})

    async def create_user(self, who: Principal, request_id: str, cmd: commands.CreateUser) -> User:
        email = domain.normalize_email(cmd.email)
        violations = Violations()
        domain.check_email(email, "user.email", violations)
        domain.check_display_name(cmd.display_name, "user.display_name", violations)
        domain.check_roles(cmd.roles, "user.roles", violations)
        domain.check_password(cmd.password, "user.password", violations, email=email)
        violations.raise_if_any()
        key = idempotency.Key(who.tenant_id, request_id, "CreateUser")
        never_the_password = dataclasses.replace(cmd, password="")  # not even its digest is kept
        once = self.units.once(key, never_the_password, User)
        password_hash = await crypto.hash_password(cmd.password)

        async def work(uow: UserUnit) -> User:
            if await uow.users.email_taken(who.tenant_id, email):
                raise errors.AlreadyExists("user", email, field="user.email")
            now = self.now()
            user = User(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                email=email,
                display_name=cmd.display_name or email,
                roles=tuple(sorted(set(cmd.roles))),
                disabled=False,
                created_at=now,
                updated_at=now,
                last_login_at=None,
                version=1,
            )
            await uow.users.add(user, password_hash)
            return user

        return await once(work)

    async def update_user(self, who: Principal, request_id: str, cmd: commands.UpdateUser) -> User:
        violations = Violations()
        if cmd.display_name is not None:
            domain.check_display_name(cmd.display_name, "user.display_name", violations)
        if cmd.roles is not None:
            domain.check_roles(cmd.roles, "user.roles", violations)
        violations.raise_if_any()

        async def work(uow: UserUnit) -> User:
            # Lock the tenant's users: the last-admin rule reads all of them.
            everyone = await uow.users.of_tenant(who.tenant_id, lock=True)

            def changed(user: User) -> User:
                after = dataclasses.replace(
                    user,
                    display_name=user.display_name if cmd.display_name is None else cmd.display_name,
                    roles=user.roles if cmd.roles is None else tuple(sorted(set(cmd.roles))),
                    disabled=user.disabled if cmd.disabled is None else cmd.disabled,
                    updated_at=self.now(),
                )
                domain.keeps_an_admin(everyone, after)
                return after

            before = next((u for u in everyone if u.id == cmd.user_id), None)
            user = await revise(
                before, changed, uow.users.save, kind="user", name=user_name(cmd.user_id), given_etag=cmd.etag
            )
            if user.disabled and before is not None and not before.disabled:
                await uow.refresh_tokens.revoke_of_user(user.id, self.now())
            return user

        key = idempotency.Key(who.tenant_id, request_id, "UpdateUser")
        return await self.units.once(key, cmd, User)(work)

    async def change_password(self, who: Principal, request_id: str, cmd: commands.ChangePassword) -> None:
        violations = Violations()
        if not cmd.current_password:
            violations.add("current_password", "required")
        async with self.units.read() as uow:
            user = await uow.users.get(who.tenant_id, who.user_id)
            current_hash = await uow.users.password_hash(who.tenant_id, who.user_id)
        if user is None:
            raise NotFound("user", user_name(who.user_id))
        domain.check_password(cmd.new_password, "new_password", violations, email=user.email)
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)
        if not await crypto.verify_password(current_hash, cmd.current_password):
            raise InvalidArgument(
                [FieldViolation("current_password", "does not match")], reason="WRONG_PASSWORD"
            )
        await self._set_password(who.tenant_id, user.id, request_id, "ChangePassword", cmd.new_password)

    async def reset_password(self, who: Principal, request_id: str, cmd: commands.ResetPassword) -> None:
        async with self.units.read() as uow:
            user = await uow.users.get(who.tenant_id, cmd.user_id)
        if user is None:
            raise NotFound("user", user_name(cmd.user_id))
        violations = Violations()
        domain.check_password(cmd.new_password, "new_password", violations, email=user.email)
        violations.raise_if_any()
        await self._set_password(who.tenant_id, user.id, request_id, "ResetPassword", cmd.new_password)

    async def _set_password(
        self, tenant_id: str, user_id: str, request_id: str, operation: str, password: str
    ) -> None:
        key = idempotency.Key(tenant_id, request_id, operation)
        once = self.units.once(key, {"user_id": user_id}, Done)
        new_hash = await crypto.hash_password(password)

        async def work(uow: UserUnit) -> Done:
            now = self.now()
            await uow.users.set_password(tenant_id, user_id, new_hash, now)
            await uow.refresh_tokens.revoke_of_user(user_id, now)
            return Done(now)

        await once(work)
