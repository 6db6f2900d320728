"""Specifications of users: creating, reading, listing, changing roles and access."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from kit import errors
from kit.identity import Role
from svc_user import commands
from svc_user.domain import User
from svc_user.usecases.users import user_etag
from tests.unit.user.conftest import NEW_PASSWORD, PASSWORD, Bootstrap, Svc, add_user, as_principal, sign_in


def update(
    user: User,
    *,
    display_name: str | None = None,
    roles: tuple[Role, ...] | None = None,
    disabled: bool | None = None,
) -> commands.UpdateUser:
    return commands.UpdateUser(user.id, user_etag(user), display_name, roles, disabled)


# --- creating ------------------------------------------------------------------


async def test_a_new_user_has_a_normalized_email_sorted_roles_and_can_log_in(
    svc: Svc, acme: Bootstrap
) -> None:
    cmd = commands.CreateUser(" Kim@Acme.TEST ", "", (Role.VIEWER, Role.CLERK, Role.CLERK), PASSWORD)

    kim = await svc.accounts.create_user(acme.who, "create-kim", cmd)

    assert (kim.email, kim.display_name, kim.roles) == (
        "kim@acme.test",
        "kim@acme.test",
        (Role.CLERK, Role.VIEWER),
    )
    assert (kim.tenant_id, kim.version, kim.disabled, kim.last_login_at) == (acme.tenant.id, 1, False, None)
    assert await svc.accounts.get_user(acme.who, kim.id) == kim
    assert await sign_in(svc, "kim@acme.test")


async def test_a_bad_new_user_names_every_bad_field_at_once(svc: Svc, acme: Bootstrap) -> None:
    cmd = commands.CreateUser("nope", "x" * 201, (), "short")

    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.accounts.create_user(acme.who, "create-bad", cmd)

    fields = [v.field for v in refused.value.violations]
    assert fields == ["user.email", "user.display_name", "user.roles", "user.password"]


async def test_a_taken_email_is_refused_within_a_tenant(svc: Svc, acme: Bootstrap) -> None:
    await add_user(svc, acme, "kim@acme.test")

    with pytest.raises(errors.AlreadyExists) as refused:
        await svc.accounts.create_user(
            acme.who, "again", commands.CreateUser("KIM@acme.test", "", (Role.BUYER,), PASSWORD)
        )

    assert refused.value.reason == "ALREADY_EXISTS"
    assert len(svc.memory.state.users) == 2


async def test_a_repeated_request_id_returns_the_first_user_and_adds_no_other(
    svc: Svc, acme: Bootstrap
) -> None:
    cmd = commands.CreateUser("kim@acme.test", "Kim", (Role.CLERK,), PASSWORD)
    first = await svc.accounts.create_user(acme.who, "create-kim", cmd)

    # Only the rest of the command is compared: no digest of a password is kept.
    again = await svc.accounts.create_user(
        acme.who, "create-kim", dataclasses.replace(cmd, password=NEW_PASSWORD)
    )

    assert again == first
    assert len(svc.memory.state.users) == 2
    with pytest.raises(errors.Unauthenticated):
        await sign_in(svc, "kim@acme.test", NEW_PASSWORD)


async def test_a_request_id_reused_for_another_user_is_refused(svc: Svc, acme: Bootstrap) -> None:
    await add_user(svc, acme, "kim@acme.test")

    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.accounts.create_user(
            acme.who,
            "create-kim@acme.test",
            commands.CreateUser("lee@acme.test", "", (Role.CLERK,), PASSWORD),
        )

    assert refused.value.reason == "REQUEST_ID_REUSED"
    assert len(svc.memory.state.users) == 2


# --- reading and listing ----------------------------------------------------------


async def test_only_managers_and_admins_see_other_users(svc: Svc, acme: Bootstrap) -> None:
    clerk = await add_user(svc, acme, "clerk@acme.test", Role.CLERK)
    manager = await add_user(svc, acme, "manager@acme.test", Role.MANAGER)

    with pytest.raises(errors.PermissionDenied) as refused:
        await svc.accounts.get_user(as_principal(clerk), manager.id)

    assert refused.value.reason == "ROLE_REQUIRED"
    assert await svc.accounts.get_user(as_principal(clerk), clerk.id) == clerk
    assert await svc.accounts.get_user(as_principal(manager), clerk.id) == clerk


async def test_a_user_of_another_tenant_reads_as_not_found(svc: Svc, acme: Bootstrap) -> None:
    _, other_admin = await svc.tenancy.create_tenant(
        commands.CreateTenant("globex", "", "admin@globex.test", PASSWORD)
    )

    with pytest.raises(errors.NotFound):
        await svc.accounts.get_user(acme.who, other_admin.id)


async def test_users_are_listed_by_email_a_page_at_a_time(svc: Svc, acme: Bootstrap) -> None:
    for email in ("d@acme.test", "b@acme.test", "c@acme.test"):
        await add_user(svc, acme, email)
    query = commands.ListUsers(page_size=2, page_token="", role=None, show_disabled=False)

    first = await svc.accounts.list_users(acme.who, query)
    second = await svc.accounts.list_users(
        acme.who, commands.ListUsers(2, first.next_page_token, None, False)
    )

    assert [u.email for u in first.items] == ["admin@acme.test", "b@acme.test"]
    assert [u.email for u in second.items] == ["c@acme.test", "d@acme.test"]
    assert first.next_page_token
    assert second.next_page_token == ""


async def test_the_list_hides_disabled_users_unless_asked_and_filters_by_role(
    svc: Svc, acme: Bootstrap
) -> None:
    buyer = await add_user(svc, acme, "buyer@acme.test", Role.BUYER, Role.VIEWER)
    gone = await add_user(svc, acme, "gone@acme.test", Role.BUYER)
    await svc.accounts.update_user(acme.who, "disable", update(gone, disabled=True))

    shown = await svc.accounts.list_users(acme.who, commands.ListUsers(0, "", None, False))
    buyers = await svc.accounts.list_users(acme.who, commands.ListUsers(0, "", Role.BUYER, True))
    viewers = await svc.accounts.list_users(acme.who, commands.ListUsers(0, "", Role.VIEWER, False))

    assert [u.email for u in shown.items] == ["admin@acme.test", "buyer@acme.test"]
    assert [u.email for u in buyers.items] == ["buyer@acme.test", "gone@acme.test"]
    assert [u.id for u in viewers.items] == [buyer.id]


async def test_a_page_token_not_from_a_list_is_refused(svc: Svc, acme: Bootstrap) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.accounts.list_users(acme.who, commands.ListUsers(0, "not-a-token", None, False))

    assert [v.field for v in refused.value.violations] == ["page_token"]


async def test_a_page_token_reused_with_another_role_or_disabled_users_shown_is_refused(
    svc: Svc, acme: Bootstrap
) -> None:
    for email in ("b@acme.test", "c@acme.test", "d@acme.test"):
        await add_user(svc, acme, email, Role.BUYER)
    first = await svc.accounts.list_users(acme.who, commands.ListUsers(1, "", Role.BUYER, False))

    for role, show_disabled in [(Role.CLERK, False), (None, False), (Role.BUYER, True)]:
        with pytest.raises(errors.InvalidArgument) as refused:
            await svc.accounts.list_users(
                acme.who, commands.ListUsers(1, first.next_page_token, role, show_disabled)
            )
        assert [v.field for v in refused.value.violations] == ["page_token"]
    rest = await svc.accounts.list_users(
        acme.who, commands.ListUsers(5, first.next_page_token, Role.BUYER, False)
    )
    assert [u.email for u in first.items + rest.items] == ["b@acme.test", "c@acme.test", "d@acme.test"]


# --- changing roles and access ------------------------------------------------------


async def test_an_update_changes_only_the_named_fields_and_bumps_the_version(
    svc: Svc, acme: Bootstrap
) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    svc.clock.advance(timedelta(minutes=1))

    changed = await svc.accounts.update_user(
        acme.who, "promote", update(kim, roles=(Role.MANAGER, Role.BUYER))
    )

    assert changed.roles == (Role.BUYER, Role.MANAGER)
    assert (changed.display_name, changed.disabled) == (kim.display_name, False)
    assert (changed.version, changed.updated_at) == (2, svc.clock.now)
    assert await svc.accounts.get_user(acme.who, kim.id) == changed


async def test_a_stale_etag_is_refused_and_changes_nothing(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    await svc.accounts.update_user(acme.who, "first", update(kim, display_name="Kim"))

    with pytest.raises(errors.EtagMismatch):
        await svc.accounts.update_user(acme.who, "second", update(kim, display_name="Kimberly"))

    assert (await svc.accounts.get_user(acme.who, kim.id)).display_name == "Kim"


async def test_an_unknown_user_cannot_be_updated(svc: Svc, acme: Bootstrap) -> None:
    with pytest.raises(errors.NotFound):
        await svc.accounts.update_user(acme.who, "u", commands.UpdateUser("nobody", "", display_name="x"))


async def test_the_last_enabled_admin_can_be_neither_demoted_nor_disabled(svc: Svc, acme: Bootstrap) -> None:
    demote = update(acme.admin, roles=(Role.MANAGER,))
    disable = update(acme.admin, disabled=True)
    for request_id, cmd in (("demote", demote), ("disable", disable)):
        with pytest.raises(errors.FailedPrecondition) as refused:
            await svc.accounts.update_user(acme.who, request_id, cmd)
        assert refused.value.reason == "LAST_ADMIN"

    assert await svc.accounts.get_user(acme.who, acme.admin.id) == acme.admin


async def test_an_admin_may_step_down_while_another_admin_stays(svc: Svc, acme: Bootstrap) -> None:
    await add_user(svc, acme, "second@acme.test", Role.ADMIN)

    changed = await svc.accounts.update_user(acme.who, "step-down", update(acme.admin, roles=(Role.VIEWER,)))

    assert changed.roles == (Role.VIEWER,)


async def test_disabling_a_user_ends_their_sessions_and_logins(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    refresh = await sign_in(svc, "kim@acme.test")

    await svc.accounts.update_user(acme.who, "disable", update(kim, disabled=True))

    with pytest.raises(errors.Unauthenticated) as refused:
        await svc.sessions.refresh("r", refresh)
    assert refused.value.reason == "REFRESH_TOKEN_REVOKED"
    with pytest.raises(errors.PermissionDenied) as denied:
        await sign_in(svc, "kim@acme.test")
    assert denied.value.reason == "USER_DISABLED"


async def test_a_repeated_update_returns_the_first_user_and_changes_nothing(
    svc: Svc, acme: Bootstrap
) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    cmd = update(kim, display_name="Kim")
    first = await svc.accounts.update_user(acme.who, "rename", cmd)

    again = await svc.accounts.update_user(acme.who, "rename", cmd)

    assert again == first
    assert (await svc.accounts.get_user(acme.who, kim.id)).version == 2


async def test_an_update_to_no_roles_is_refused(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")

    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.accounts.update_user(acme.who, "strip", update(kim, roles=()))

    assert [v.field for v in refused.value.violations] == ["user.roles"]
