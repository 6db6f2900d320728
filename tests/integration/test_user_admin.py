"""User administration: role checks, tenant isolation, bad input, idempotency and etags."""

from __future__ import annotations

import concurrent.futures
import threading

from google.protobuf import field_mask_pb2
from grpc import StatusCode

from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import PASSWORD, Tenant, new_id


def create_user(
    tenant: Tenant, user: user_pb2.User, request_id: str | None = None, metadata=None
) -> user_pb2.User:  # type: ignore[no-untyped-def]
    response = tenant.users.CreateUser(
        user_pb2.CreateUserRequest(request_id=request_id or new_id(), user=user),
        metadata=metadata or tenant.bearer(),
        timeout=10,
    )
    return response.user


def update_user(tenant: Tenant, user: user_pb2.User, paths: list[str], metadata=None) -> user_pb2.User:  # type: ignore[no-untyped-def]
    response = tenant.users.UpdateUser(
        user_pb2.UpdateUserRequest(
            request_id=new_id(), user=user, update_mask=field_mask_pb2.FieldMask(paths=paths)
        ),
        metadata=metadata or tenant.bearer(),
        timeout=10,
    )
    return response.user


def list_emails(tenant: Tenant, metadata, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    emails, token = [], ""
    while True:
        page = tenant.users.ListUsers(
            user_pb2.ListUsersRequest(page_size=2, page_token=token, **filters), metadata=metadata, timeout=10
        )
        emails += [u.email for u in page.users]
        token = page.next_page_token
        if not token:
            return emails


def test_an_admin_creates_a_user_who_can_then_log_in(tenant: Tenant) -> None:
    email = f"clerk@{tenant.slug}.test"

    created = create_user(tenant, user_pb2.User(email=email, password=PASSWORD, roles=[user_pb2.ROLE_CLERK]))

    assert created.roles == [user_pb2.ROLE_CLERK]
    assert not created.password
    assert tenant.login(email).user.name == created.name


def test_emails_are_stored_normalized_and_unique_per_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    create_user(
        tenant, user_pb2.User(email="Same@Example.COM", password=PASSWORD, roles=[user_pb2.ROLE_VIEWER])
    )

    duplicate = harness.refused(
        create_user,
        tenant,
        user_pb2.User(email="same@example.com", password=PASSWORD, roles=[user_pb2.ROLE_VIEWER]),
    )
    elsewhere = create_user(
        other_tenant, user_pb2.User(email="same@example.com", password=PASSWORD, roles=[user_pb2.ROLE_VIEWER])
    )

    assert duplicate.code == StatusCode.ALREADY_EXISTS
    assert elsewhere.email == "same@example.com"


def test_bad_input_is_refused_naming_every_bad_field(tenant: Tenant) -> None:
    refusal = harness.refused(
        create_user, tenant, user_pb2.User(email="not-an-email", password="short", roles=[])
    )

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert set(refusal.field_violations) == {"user.email", "user.password", "user.roles"}


def test_a_weak_password_says_why(tenant: Tenant) -> None:
    refusal = harness.refused(
        create_user,
        tenant,
        user_pb2.User(email=f"weak@{tenant.slug}.test", password="alllowercase", roles=[1]),
    )

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert "three of" in refusal.field_violations["user.password"]


def test_a_create_retried_with_its_request_id_makes_one_user(tenant: Tenant) -> None:
    request_id = new_id()
    user = user_pb2.User(email=f"once@{tenant.slug}.test", password=PASSWORD, roles=[user_pb2.ROLE_BUYER])

    first = create_user(tenant, user, request_id)
    second = create_user(tenant, user, request_id)

    assert second == first
    assert list_emails(tenant, tenant.bearer()).count(user.email) == 1


def test_a_request_id_reused_for_a_different_request_is_refused(tenant: Tenant) -> None:
    request_id = new_id()
    create_user(
        tenant, user_pb2.User(email=f"a@{tenant.slug}.test", password=PASSWORD, roles=[3]), request_id
    )

    refusal = harness.refused(
        create_user,
        tenant,
        user_pb2.User(email=f"b@{tenant.slug}.test", password=PASSWORD, roles=[3]),
        request_id,
    )

    assert (refusal.code, refusal.reason) == (StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


def test_a_missing_request_id_is_refused(tenant: Tenant) -> None:
    request = user_pb2.CreateUserRequest(
        user=user_pb2.User(email=f"d@{tenant.slug}.test", password=PASSWORD, roles=[3])
    )

    refusal = harness.refused(tenant.users.CreateUser, request, metadata=tenant.bearer(), timeout=10)

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert "request_id" in refusal.field_violations


def test_clerks_and_viewers_cannot_administer_users(tenant: Tenant) -> None:
    clerk = tenant.bearer(tenant.add_user(user_pb2.ROLE_CLERK))

    refusal = harness.refused(
        create_user,
        tenant,
        user_pb2.User(email=f"x@{tenant.slug}.test", password=PASSWORD, roles=[5]),
        metadata=clerk,
    )
    listing = harness.refused(list_emails, tenant, clerk)

    assert (refusal.code, refusal.reason) == (StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")
    assert listing.code == StatusCode.PERMISSION_DENIED


def test_a_viewer_sees_only_their_own_record(tenant: Tenant) -> None:
    viewer_email = tenant.add_user(user_pb2.ROLE_VIEWER)
    viewer = tenant.bearer(viewer_email)
    me = tenant.users.GetCurrentUser(user_pb2.GetCurrentUserRequest(), metadata=viewer, timeout=10).user
    admin = tenant.users.GetCurrentUser(
        user_pb2.GetCurrentUserRequest(), metadata=tenant.bearer(), timeout=10
    ).user

    own = tenant.users.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=viewer, timeout=10).user
    other = harness.refused(
        tenant.users.GetUser, user_pb2.GetUserRequest(name=admin.name), metadata=viewer, timeout=10
    )

    assert own.email == viewer_email
    assert other.code == StatusCode.PERMISSION_DENIED


def test_another_tenants_user_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    stranger = other_tenant.users.GetCurrentUser(
        user_pb2.GetCurrentUserRequest(), metadata=other_tenant.bearer(), timeout=10
    ).user

    found = harness.refused(
        tenant.users.GetUser,
        user_pb2.GetUserRequest(name=stranger.name),
        metadata=tenant.bearer(),
        timeout=10,
    )
    updated = harness.refused(
        update_user, tenant, user_pb2.User(name=stranger.name, display_name="x"), ["display_name"]
    )

    assert found.code == StatusCode.NOT_FOUND
    assert updated.code == StatusCode.NOT_FOUND
    assert other_tenant.admin_email not in list_emails(tenant, tenant.bearer())


def test_listing_pages_through_every_user_in_email_order(tenant: Tenant) -> None:
    emails = [
        tenant.add_user(user_pb2.ROLE_VIEWER, f"{n}@{tenant.slug}.test") for n in ("c", "a", "e", "b", "d")
    ]

    listed = list_emails(tenant, tenant.bearer())
    viewers = list_emails(tenant, tenant.bearer(), role=user_pb2.ROLE_VIEWER)

    assert listed == sorted([*emails, tenant.admin_email])
    assert viewers == sorted(emails)


def test_an_update_with_a_stale_etag_is_aborted(tenant: Tenant) -> None:
    user = create_user(tenant, user_pb2.User(email=f"e@{tenant.slug}.test", password=PASSWORD, roles=[3]))
    update_user(tenant, user_pb2.User(name=user.name, etag=user.etag, display_name="First"), ["display_name"])

    stale = harness.refused(
        update_user,
        tenant,
        user_pb2.User(name=user.name, etag=user.etag, display_name="Second"),
        ["display_name"],
    )

    assert (stale.code, stale.reason) == (StatusCode.ABORTED, "ETAG_MISMATCH")


def test_an_update_changes_only_the_masked_fields(tenant: Tenant) -> None:
    user = create_user(
        tenant,
        user_pb2.User(email=f"m@{tenant.slug}.test", display_name="Kept", password=PASSWORD, roles=[3]),
    )

    updated = update_user(tenant, user_pb2.User(name=user.name, display_name="Ignored", roles=[2]), ["roles"])

    assert updated.display_name == "Kept"
    assert updated.roles == [user_pb2.ROLE_MANAGER]
    assert updated.etag != user.etag


def test_a_mask_naming_an_immutable_field_is_refused(tenant: Tenant) -> None:
    user = create_user(tenant, user_pb2.User(email=f"i@{tenant.slug}.test", password=PASSWORD, roles=[3]))

    refusal = harness.refused(
        update_user, tenant, user_pb2.User(name=user.name, email="new@x.test"), ["email"]
    )

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert "update_mask.paths" in refusal.field_violations


def test_the_last_admin_cannot_lose_the_admin_role(tenant: Tenant) -> None:
    me = tenant.users.GetCurrentUser(
        user_pb2.GetCurrentUserRequest(), metadata=tenant.bearer(), timeout=10
    ).user

    refusal = harness.refused(
        update_user, tenant, user_pb2.User(name=me.name, roles=[user_pb2.ROLE_MANAGER]), ["roles"]
    )

    assert (refusal.code, refusal.reason) == (StatusCode.FAILED_PRECONDITION, "LAST_ADMIN")
    assert refusal.precondition_violations[0].subject == me.name


def test_a_disabled_user_can_no_longer_log_in_or_refresh(tenant: Tenant) -> None:
    email = tenant.add_user(user_pb2.ROLE_CLERK)
    tokens = tenant.login(email).tokens
    user = tenant.login(email).user

    update_user(tenant, user_pb2.User(name=user.name, disabled=True), ["disabled"])

    assert harness.refused(tenant.login, email).reason == "USER_DISABLED"
    refresh = user_pb2.RefreshTokenRequest(request_id=new_id(), refresh_token=tokens.refresh_token)
    assert harness.refused(tenant.auth.RefreshToken, refresh, timeout=10).code == StatusCode.UNAUTHENTICATED


def test_an_admin_renames_the_tenant_with_its_etag(tenant: Tenant) -> None:
    admin = tenant.bearer()
    current = tenant.tenants.GetTenant(user_pb2.GetTenantRequest(), metadata=admin, timeout=10).tenant

    renamed = tenant.tenants.UpdateTenant(
        user_pb2.UpdateTenantRequest(
            request_id=new_id(),
            tenant=user_pb2.Tenant(display_name="Renamed Stores", etag=current.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=admin,
        timeout=10,
    ).tenant

    assert renamed.display_name == "Renamed Stores"
    assert renamed.slug == tenant.slug


def test_concurrent_duplicates_of_one_request_take_effect_once(tenant: Tenant) -> None:
    request_id = new_id()
    user = user_pb2.User(email=f"race@{tenant.slug}.test", password=PASSWORD, roles=[user_pb2.ROLE_CLERK])
    admin = tenant.bearer()
    start = threading.Barrier(12)

    def create() -> user_pb2.User:
        start.wait()
        return create_user(tenant, user, request_id, metadata=admin)

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: create(), range(12)))

    assert {r.name for r in results} == {results[0].name}
    assert list_emails(tenant, admin).count(user.email) == 1
