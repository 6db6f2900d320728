"""Specifications of sessions: login with its back-off, refresh-token
rotation and reuse detection, logout."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from kit import auth, errors
from kit.identity import Role
from svc_user import commands
from svc_user.usecases.sessions import LoginResult
from tests.unit.user.conftest import ACCESS_TTL, PASSWORD, REFRESH_TTL, Bootstrap, Svc, add_user

WRONG = "Wrong-Password-1"


async def login(
    svc: Svc, request_id: str, password: str = PASSWORD, email: str = "kim@acme.test"
) -> LoginResult:
    return await svc.sessions.login(request_id, commands.Login("acme", email, password))


async def verified(svc: Svc, access_token: str) -> auth.Principal:
    return await auth.TokenVerifier(auth.KeySet(svc.keys.jwks)).verify(access_token)


@pytest.fixture
async def kim(svc: Svc, acme: Bootstrap) -> str:
    return (await add_user(svc, acme, "kim@acme.test", Role.CLERK, Role.BUYER)).id


# --- login -----------------------------------------------------------------------


async def test_a_login_issues_tokens_for_the_user_and_records_the_time(
    svc: Svc, acme: Bootstrap, kim: str
) -> None:
    result = await svc.sessions.login("l1", commands.Login(" ACME ", " Kim@Acme.test", PASSWORD))

    now = svc.clock.now
    assert (result.user.id, result.user.last_login_at) == (kim, now)
    assert result.tokens.access_expires_at == now + ACCESS_TTL
    assert result.tokens.refresh_expires_at == now + REFRESH_TTL
    who = await verified(svc, result.tokens.access_token)
    assert (who.user_id, who.tenant_id, who.roles) == (
        kim,
        acme.tenant.id,
        frozenset({Role.CLERK, Role.BUYER}),
    )
    assert svc.memory.state.users[kim].user.last_login_at == now


async def test_a_wrong_password_an_unknown_email_and_an_unknown_tenant_read_alike(svc: Svc, kim: str) -> None:
    attempts = [
        commands.Login("acme", "kim@acme.test", WRONG),
        commands.Login("acme", "nobody@acme.test", PASSWORD),
        commands.Login("globex", "kim@acme.test", PASSWORD),
    ]
    reasons = []
    for i, cmd in enumerate(attempts):
        with pytest.raises(errors.Unauthenticated) as refused:
            await svc.sessions.login(f"l{i}", cmd)
        reasons.append((refused.value.reason, refused.value.message))

    assert reasons == [("INVALID_CREDENTIALS", "invalid tenant, email or password")] * 3


async def test_a_login_without_its_fields_names_all_of_them(svc: Svc) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await svc.sessions.login("l1", commands.Login("", "", ""))

    assert [v.field for v in refused.value.violations] == ["tenant", "email", "password"]


async def test_a_login_without_a_request_id_is_refused(svc: Svc, kim: str) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await login(svc, "")

    assert [v.field for v in refused.value.violations] == ["request_id"]


async def test_five_failures_lock_the_account_and_each_further_one_doubles_the_lock(
    svc: Svc, kim: str
) -> None:
    for attempt in range(5):
        with pytest.raises(errors.Unauthenticated):
            await login(svc, f"wrong-{attempt}", WRONG)

    with pytest.raises(errors.ResourceExhausted) as locked:
        await login(svc, "right-while-locked")
    assert (locked.value.reason, locked.value.retry_after_seconds) == ("LOGIN_LOCKED", 30)

    svc.clock.advance(timedelta(seconds=31))
    with pytest.raises(errors.Unauthenticated):
        await login(svc, "wrong-5", WRONG)
    with pytest.raises(errors.ResourceExhausted) as longer:
        await login(svc, "right-while-locked-again")
    assert longer.value.retry_after_seconds == 60


async def test_a_successful_login_clears_the_count_of_failures(svc: Svc, kim: str) -> None:
    for attempt in range(4):
        with pytest.raises(errors.Unauthenticated):
            await login(svc, f"wrong-{attempt}", WRONG)

    await login(svc, "right")

    row = svc.memory.state.users[kim]
    assert (row.failed_logins, row.locked_until) == (0, None)
    with pytest.raises(errors.Unauthenticated):
        await login(svc, "wrong-again", WRONG)
    assert svc.memory.state.users[kim].locked_until is None


async def test_a_repeated_login_returns_the_same_tokens_for_five_minutes_only(svc: Svc, kim: str) -> None:
    first = await login(svc, "l1")
    svc.clock.advance(timedelta(minutes=4))

    replayed = await login(svc, "l1")
    svc.clock.advance(timedelta(minutes=2))
    later = await login(svc, "l1")

    assert replayed == first
    assert later.tokens.refresh_token != first.tokens.refresh_token
    assert len(svc.memory.state.refresh_tokens) == 2


async def test_a_replayed_login_still_needs_the_password(svc: Svc, kim: str) -> None:
    await login(svc, "l1")

    with pytest.raises(errors.Unauthenticated):
        await login(svc, "l1", WRONG)


async def test_no_signing_key_makes_login_unavailable(svc: Svc, kim: str) -> None:
    svc.memory.state.signing_keys.clear()

    with pytest.raises(errors.Unavailable) as refused:
        await login(svc, "l1")

    assert refused.value.reason == "NO_SIGNING_KEY"
    assert svc.memory.state.refresh_tokens == {}


# --- refresh ------------------------------------------------------------------------


async def test_a_refresh_rotates_the_token_within_its_family(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    svc.clock.advance(timedelta(minutes=1))

    pair = await svc.sessions.refresh("r1", session.tokens.refresh_token)

    assert pair.refresh_token != session.tokens.refresh_token
    assert pair.access_expires_at == svc.clock.now + ACCESS_TTL
    assert (await verified(svc, pair.access_token)).user_id == kim
    tokens = sorted(svc.memory.state.refresh_tokens.values(), key=lambda row: row.created_at)
    assert [row.token.used_at for row in tokens] == [svc.clock.now, None]
    assert tokens[0].token.family_id == tokens[1].token.family_id


async def test_a_repeated_refresh_returns_the_same_pair_and_is_no_reuse(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    pair = await svc.sessions.refresh("r1", session.tokens.refresh_token)

    again = await svc.sessions.refresh("r1", session.tokens.refresh_token)

    assert again == pair
    assert await svc.sessions.refresh("r2", pair.refresh_token)


async def test_a_spent_token_presented_again_revokes_its_whole_family(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    other = await login(svc, "l2")
    pair = await svc.sessions.refresh("r1", session.tokens.refresh_token)

    with pytest.raises(errors.Unauthenticated) as reused:
        await svc.sessions.refresh("stolen", session.tokens.refresh_token)
    with pytest.raises(errors.Unauthenticated) as revoked:
        await svc.sessions.refresh("r2", pair.refresh_token)
    with pytest.raises(errors.Unauthenticated) as replayed:
        await svc.sessions.refresh("stolen", session.tokens.refresh_token)

    assert reused.value.reason == "REFRESH_TOKEN_REUSED"
    assert revoked.value.reason == "REFRESH_TOKEN_REVOKED"
    assert replayed.value.reason == "REFRESH_TOKEN_REUSED"
    assert await svc.sessions.refresh("r3", other.tokens.refresh_token)  # another session lives on


async def test_an_expired_or_unknown_refresh_token_is_refused(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    svc.clock.advance(REFRESH_TTL)

    with pytest.raises(errors.Unauthenticated) as expired:
        await svc.sessions.refresh("r1", session.tokens.refresh_token)
    with pytest.raises(errors.Unauthenticated) as unknown:
        await svc.sessions.refresh("r2", "not-a-token")
    with pytest.raises(errors.InvalidArgument) as empty:
        await svc.sessions.refresh("r3", "")

    assert (expired.value.reason, unknown.value.reason) == ("REFRESH_TOKEN_EXPIRED", "REFRESH_TOKEN_INVALID")
    assert [v.field for v in empty.value.violations] == ["refresh_token"]


async def test_a_refresh_for_a_disabled_user_is_refused_and_ends_the_family(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    # Disabling through the use case revokes the tokens first; this is the
    # refresh's own guard, for a user disabled while a token was in flight.
    row = svc.memory.state.users[kim]
    row.user = dataclasses.replace(row.user, disabled=True)

    with pytest.raises(errors.Unauthenticated) as refused:
        await svc.sessions.refresh("r1", session.tokens.refresh_token)

    assert refused.value.reason == "USER_DISABLED"
    assert all(r.token.revoked_at == svc.clock.now for r in svc.memory.state.refresh_tokens.values())


# --- logout ---------------------------------------------------------------------------


async def test_a_logout_ends_the_session_and_only_that_one(svc: Svc, kim: str) -> None:
    session = await login(svc, "l1")
    other = await login(svc, "l2")
    pair = await svc.sessions.refresh("r1", session.tokens.refresh_token)

    await svc.sessions.logout("out", pair.refresh_token)

    with pytest.raises(errors.Unauthenticated) as refused:
        await svc.sessions.refresh("r2", pair.refresh_token)
    assert refused.value.reason == "REFRESH_TOKEN_REVOKED"
    assert await svc.sessions.refresh("r3", other.tokens.refresh_token)


async def test_a_logout_with_an_unknown_token_answers_as_any_other(svc: Svc, kim: str) -> None:
    before = dict(svc.memory.state.refresh_tokens)

    await svc.sessions.logout("out", "not-a-token")

    assert svc.memory.state.refresh_tokens == before
    with pytest.raises(errors.InvalidArgument):
        await svc.sessions.logout("out", "")
