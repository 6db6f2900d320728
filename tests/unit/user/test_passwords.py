"""Specifications of passwords: a user's own change and an admin's reset."""

from __future__ import annotations

import pytest

from kit import errors
from svc_user import commands
from tests.unit.user.conftest import NEW_PASSWORD, PASSWORD, Bootstrap, Svc, add_user, as_principal, sign_in


async def test_a_changed_password_replaces_the_old_one_and_ends_every_session(
    svc: Svc, acme: Bootstrap
) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    refresh = await sign_in(svc, "kim@acme.test")

    await svc.accounts.change_password(
        as_principal(kim), "change", commands.ChangePassword(PASSWORD, NEW_PASSWORD)
    )

    assert await sign_in(svc, "kim@acme.test", NEW_PASSWORD)
    with pytest.raises(errors.Unauthenticated):
        await sign_in(svc, "kim@acme.test", PASSWORD)
    with pytest.raises(errors.Unauthenticated):
        await svc.sessions.refresh("r", refresh)
    assert (await svc.accounts.get_user(acme.who, kim.id)).version == 2


async def test_a_password_change_needs_the_current_password(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")

    with pytest.raises(errors.InvalidArgument) as wrong:
        await svc.accounts.change_password(
            as_principal(kim), "change", commands.ChangePassword("Not-The-Password-1", NEW_PASSWORD)
        )
    with pytest.raises(errors.InvalidArgument) as both:
        await svc.accounts.change_password(
            as_principal(kim), "change", commands.ChangePassword("", "kim@acme")
        )

    assert wrong.value.reason == "WRONG_PASSWORD"
    assert [v.field for v in both.value.violations] == ["current_password", "new_password"]
    assert await sign_in(svc, "kim@acme.test")


async def test_an_admin_reset_unlocks_a_locked_user(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    for attempt in range(5):
        with pytest.raises(errors.Unauthenticated):
            await sign_in(svc, "kim@acme.test", f"Wrong-Password-{attempt}")

    await svc.accounts.reset_password(acme.who, "reset", commands.ResetPassword(kim.id, NEW_PASSWORD))

    assert await sign_in(svc, "kim@acme.test", NEW_PASSWORD)


async def test_a_reset_of_an_unknown_user_or_to_a_weak_password_is_refused(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")

    with pytest.raises(errors.NotFound):
        await svc.accounts.reset_password(acme.who, "reset", commands.ResetPassword("nobody", NEW_PASSWORD))
    with pytest.raises(errors.InvalidArgument) as weak:
        await svc.accounts.reset_password(acme.who, "reset", commands.ResetPassword(kim.id, "password123"))

    assert [v.field for v in weak.value.violations] == ["new_password"]
    assert await sign_in(svc, "kim@acme.test")


async def test_a_repeated_reset_takes_effect_once(svc: Svc, acme: Bootstrap) -> None:
    kim = await add_user(svc, acme, "kim@acme.test")
    await svc.accounts.reset_password(acme.who, "reset", commands.ResetPassword(kim.id, NEW_PASSWORD))
    refresh = await sign_in(svc, "kim@acme.test", NEW_PASSWORD)

    await svc.accounts.reset_password(acme.who, "reset", commands.ResetPassword(kim.id, NEW_PASSWORD))

    assert await svc.sessions.refresh("r", refresh)  # the replay revoked nothing
    assert (await svc.accounts.get_user(acme.who, kim.id)).version == 2
