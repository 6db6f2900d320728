"""Specifications of tenants: bootstrap with a first admin, reading, renaming."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kit import errors
from kit.identity import Principal, Role
from svc_user import commands
from svc_user.usecases.tenants import tenant_etag
from tests.unit.user.conftest import PASSWORD, Bootstrap, Svc


async def test_a_new_tenant_comes_with_its_first_admin(svc: Svc) -> None:
    tenant, admin = await svc.tenancy.create_tenant(
        commands.CreateTenant("acme", "", " Boss@Acme.TEST ", PASSWORD, admin_display_name="Boss")
    )

    assert (tenant.slug, tenant.display_name, tenant.version) == ("acme", "acme", 1)
    assert (admin.tenant_id, admin.email, admin.display_name) == (tenant.id, "boss@acme.test", "Boss")
    assert admin.roles == (Role.ADMIN,)
    who = Principal(admin.id, tenant.id, frozenset(admin.roles), "t")
    assert await svc.tenancy.get_tenant(who) == tenant
    assert await svc.accounts.current_user(who) == admin


async def test_the_admin_password_is_kept_only_as_a_hash(svc: Svc, acme: Bootstrap) -> None:
    row = svc.memory.state.users[acme.admin.id]

    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


async def test_a_taken_slug_is_refused_and_nothing_is_added(svc: Svc, acme: Bootstrap) -> None:
    before = svc.memory.state

    with pytest.raises(errors.AlreadyExists) as refused:
        await svc.tenancy.create_tenant(commands.CreateTenant("acme", "", "other@acme.test", PASSWORD))

    assert refused.value.reason == "ALREADY_EXISTS"
    assert svc.memory.state is before
    assert len(before.tenants) == 1
    assert len(before.users) == 1


async def test_a_bad_bootstrap_names_every_bad_field_at_once(svc: Svc) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.tenancy.create_tenant(commands.CreateTenant("-Bad Slug", "", "not-an-email", "short"))

    assert [v.field for v in refused.value.violations] == ["slug", "email", "password"]
    assert svc.memory.state.tenants == {}


async def test_an_unknown_tenant_reads_as_not_found(svc: Svc) -> None:
    with pytest.raises(errors.NotFound) as missing:
        await svc.tenancy.get_tenant(Principal("u", "nowhere", frozenset({Role.ADMIN}), "t"))

    assert "tenants/nowhere" in missing.value.message


async def test_renaming_a_tenant_bumps_its_version_and_etag(svc: Svc, acme: Bootstrap) -> None:
    svc.clock.advance(timedelta(minutes=1))

    renamed = await svc.tenancy.update_tenant(
        acme.who, "rename-1", commands.UpdateTenant(tenant_etag(acme.tenant), "Acme Ltd")
    )

    assert (renamed.display_name, renamed.version, renamed.updated_at) == ("Acme Ltd", 2, svc.clock.now)
    assert tenant_etag(renamed) != tenant_etag(acme.tenant)
    assert await svc.tenancy.get_tenant(acme.who) == renamed


async def test_an_update_without_a_display_name_changes_only_the_version(svc: Svc, acme: Bootstrap) -> None:
    same = await svc.tenancy.update_tenant(acme.who, "touch", commands.UpdateTenant(""))

    assert (same.display_name, same.version) == ("Acme", 2)


async def test_a_stale_etag_is_refused_and_changes_nothing(svc: Svc, acme: Bootstrap) -> None:
    await svc.tenancy.update_tenant(acme.who, "first", commands.UpdateTenant("", "First"))

    with pytest.raises(errors.EtagMismatch):
        await svc.tenancy.update_tenant(
            acme.who, "second", commands.UpdateTenant(tenant_etag(acme.tenant), "Second")
        )

    assert (await svc.tenancy.get_tenant(acme.who)).display_name == "First"


async def test_a_repeated_request_id_returns_the_first_tenant_and_changes_nothing(
    svc: Svc, acme: Bootstrap
) -> None:
    cmd = commands.UpdateTenant(tenant_etag(acme.tenant), "Acme Ltd")
    first = await svc.tenancy.update_tenant(acme.who, "rename-1", cmd)
    svc.clock.advance(timedelta(minutes=1))

    again = await svc.tenancy.update_tenant(acme.who, "rename-1", cmd)

    assert again == first
    assert await svc.tenancy.get_tenant(acme.who) == first


async def test_a_request_id_reused_for_another_change_is_refused(svc: Svc, acme: Bootstrap) -> None:
    await svc.tenancy.update_tenant(acme.who, "rename-1", commands.UpdateTenant("", "One"))

    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.tenancy.update_tenant(acme.who, "rename-1", commands.UpdateTenant("", "Two"))

    assert refused.value.reason == "REQUEST_ID_REUSED"
    assert (await svc.tenancy.get_tenant(acme.who)).display_name == "One"


async def test_a_blank_display_name_or_missing_request_id_is_refused(svc: Svc, acme: Bootstrap) -> None:
    with pytest.raises(errors.InvalidArgument) as blank:
        await svc.tenancy.update_tenant(acme.who, "r", commands.UpdateTenant("", "   "))
    with pytest.raises(errors.InvalidArgument) as no_id:
        await svc.tenancy.update_tenant(acme.who, "", commands.UpdateTenant("", "Fine"))

    assert [v.field for v in blank.value.violations] == ["tenant.display_name"]
    assert [v.field for v in no_id.value.violations] == ["request_id"]
    assert (await svc.tenancy.get_tenant(acme.who)).version == 1
