"""Login, refresh rotation, reuse detection, logout and lockout, over real gRPC with mTLS."""

from __future__ import annotations

import jwt
import pytest
from grpc import StatusCode

from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import PASSWORD, Tenant, auth_metadata, new_id


def refresh(tenant: Tenant, token: str, request_id: str | None = None) -> user_pb2.RefreshTokenResponse:
    request = user_pb2.RefreshTokenRequest(request_id=request_id or new_id(), refresh_token=token)
    response: user_pb2.RefreshTokenResponse = tenant.auth.RefreshToken(request, timeout=10)
    return response


def test_login_issues_an_access_token_naming_the_user_tenant_and_roles(tenant: Tenant) -> None:
    response = tenant.login()

    claims = jwt.decode(response.tokens.access_token, options={"verify_signature": False})
    assert response.user.email == tenant.admin_email
    assert claims["sub"] == response.user.name.removeprefix("users/")
    assert claims["tid"] == response.user.tenant.removeprefix("tenants/")
    assert claims["roles"] == ["admin"]
    assert response.tokens.token_type == "Bearer"
    assert response.tokens.refresh_token


def test_the_access_token_opens_the_callers_own_record(tenant: Tenant) -> None:
    me = tenant.users.GetCurrentUser(user_pb2.GetCurrentUserRequest(), metadata=tenant.bearer(), timeout=10)

    assert me.user.email == tenant.admin_email
    assert me.user.last_login_time.seconds > 0


def test_a_wrong_password_or_unknown_email_is_unauthenticated_alike(tenant: Tenant) -> None:
    wrong_password = harness.refused(tenant.login, password="Not-The-Password-1")
    unknown_email = harness.refused(tenant.login, email=f"nobody@{tenant.slug}.test")

    assert wrong_password.code == unknown_email.code == StatusCode.UNAUTHENTICATED
    assert wrong_password.reason == unknown_email.reason == "INVALID_CREDENTIALS"
    assert wrong_password.message == unknown_email.message


def test_repeated_failures_lock_the_account_and_say_when_to_retry(tenant: Tenant) -> None:
    for _ in range(5):
        harness.refused(tenant.login, password="Not-The-Password-1")

    locked = harness.refused(tenant.login)

    assert locked.code == StatusCode.RESOURCE_EXHAUSTED
    assert locked.reason == "LOGIN_LOCKED"
    assert locked.retry_delay_seconds is not None
    assert 0 < locked.retry_delay_seconds <= 30


def test_refresh_rotates_the_pair_and_spends_the_presented_token(tenant: Tenant) -> None:
    first = tenant.login().tokens

    second = refresh(tenant, first.refresh_token).tokens

    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert refresh(tenant, second.refresh_token).tokens.refresh_token


def test_a_reused_rotated_token_revokes_its_whole_family(tenant: Tenant) -> None:
    first = tenant.login().tokens
    second = refresh(tenant, first.refresh_token).tokens

    reuse = harness.refused(refresh, tenant, first.refresh_token)
    after = harness.refused(refresh, tenant, second.refresh_token)

    assert (reuse.code, reuse.reason) == (StatusCode.UNAUTHENTICATED, "REFRESH_TOKEN_REUSED")
    assert (after.code, after.reason) == (StatusCode.UNAUTHENTICATED, "REFRESH_TOKEN_REVOKED")


def test_a_refresh_retried_with_its_request_id_returns_the_same_pair(tenant: Tenant) -> None:
    first = tenant.login().tokens
    request_id = new_id()

    once = refresh(tenant, first.refresh_token, request_id).tokens
    again = refresh(tenant, first.refresh_token, request_id).tokens

    assert again == once
    assert refresh(tenant, once.refresh_token).tokens.access_token


def test_other_sessions_survive_a_reuse_in_one_family(tenant: Tenant) -> None:
    laptop = tenant.login().tokens
    phone = tenant.login().tokens
    refresh(tenant, laptop.refresh_token)

    harness.refused(refresh, tenant, laptop.refresh_token)

    assert refresh(tenant, phone.refresh_token).tokens.refresh_token


def test_logout_revokes_the_refresh_token_family(tenant: Tenant) -> None:
    tokens = tenant.login().tokens

    tenant.auth.Logout(
        user_pb2.LogoutRequest(request_id=new_id(), refresh_token=tokens.refresh_token), timeout=10
    )

    assert harness.refused(refresh, tenant, tokens.refresh_token).reason == "REFRESH_TOKEN_REVOKED"


def test_changing_the_password_ends_other_sessions(tenant: Tenant) -> None:
    tokens = tenant.login().tokens
    new_password = "Another-Horse-7-Battery"

    tenant.users.ChangePassword(
        user_pb2.ChangePasswordRequest(
            request_id=new_id(), current_password=PASSWORD, new_password=new_password
        ),
        metadata=auth_metadata(tokens.access_token),
        timeout=10,
    )

    assert harness.refused(refresh, tenant, tokens.refresh_token).reason == "REFRESH_TOKEN_REVOKED"
    assert harness.refused(tenant.login).code == StatusCode.UNAUTHENTICATED
    assert tenant.login(password=new_password).user.email == tenant.admin_email


@pytest.mark.parametrize(
    ("field", "value"),
    [("tenant", ""), ("email", ""), ("password", "")],
)
def test_login_names_each_missing_field(tenant: Tenant, field: str, value: str) -> None:
    request = user_pb2.LoginRequest(
        request_id=new_id(), tenant=tenant.slug, email=tenant.admin_email, password=PASSWORD
    )
    setattr(request, field, value)

    refusal = harness.refused(tenant.auth.Login, request, timeout=10)

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert field in refusal.field_violations


def test_jwks_publishes_the_key_that_verifies_access_tokens(tenant: Tenant) -> None:
    token = tenant.login().tokens.access_token
    jwks = tenant.auth.GetJwks(user_pb2.GetJwksRequest(), timeout=10)

    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.kid == kid)
    public = jwt.PyJWK(
        {"kty": key.kty, "crv": key.crv, "x": key.x, "y": key.y, "kid": key.kid}, algorithm="ES256"
    )
    claims = jwt.decode(
        token, public.key, algorithms=["ES256"], audience="stockmesh", issuer="stockmesh-user"
    )

    assert claims["roles"] == ["admin"]
