"""Specifications of svc_user's rules: passwords, emails, slugs, login back-off, refresh tokens, admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit.errors import FailedPrecondition, FieldViolation, Violations
from kit.identity import Role
from svc_user import domain

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def password_problems(password: str, *, email: str = "", field: str = "password") -> list[FieldViolation]:
    violations = Violations()
    domain.check_password(password, field, violations, email=email)
    return violations.items


def email_problems(email: str) -> list[FieldViolation]:
    violations = Violations()
    domain.check_email(email, "email", violations)
    return violations.items


def slug_problems(slug: str) -> list[FieldViolation]:
    violations = Violations()
    domain.check_slug(slug, "slug", violations)
    return violations.items


def user(user_id: str, *roles: Role, disabled: bool = False) -> domain.User:
    return domain.User(
        id=user_id,
        tenant_id="tenant-1",
        email=f"{user_id}@example.com",
        display_name=user_id,
        roles=roles,
        disabled=disabled,
        created_at=NOW,
        updated_at=NOW,
        last_login_at=None,
        version=1,
    )


def refresh_token(
    *, expires_at: datetime, used_at: datetime | None = None, revoked_at: datetime | None = None
) -> domain.RefreshToken:
    return domain.RefreshToken(
        id="token-1",
        family_id="family-1",
        user_id="user-1",
        tenant_id="tenant-1",
        expires_at=expires_at,
        used_at=used_at,
        revoked_at=revoked_at,
    )


def test_an_empty_password_is_required() -> None:
    assert password_problems("") == [FieldViolation("password", "required")]


def test_a_password_shorter_than_the_minimum_is_refused() -> None:
    assert password_problems("Ab1!xyz9q") == [FieldViolation("password", "at least 10 characters")]


def test_a_password_of_the_minimum_length_with_three_classes_is_accepted() -> None:
    assert password_problems("Ab1xyzqrst") == []


@pytest.mark.parametrize("password", ["password123", "Password123", "QWERTYUIOP", "Stockmesh123"])
def test_a_common_password_is_refused_whatever_its_case(password: str) -> None:
    assert password_problems(password) == [FieldViolation("password", "too common or too repetitive")]


def test_a_password_of_fewer_than_four_distinct_characters_is_refused() -> None:
    assert password_problems("Ab1Ab1Ab1Ab1Ab1Ab1") == [
        FieldViolation("password", "too common or too repetitive")
    ]


def test_a_password_containing_the_email_local_part_is_refused() -> None:
    problems = password_problems("x-GRACE.HOPPER-9", email=" Grace.Hopper@Example.com")

    assert problems == [FieldViolation("password", "must not contain the email address")]


def test_a_local_part_under_three_characters_is_not_held_against_the_password() -> None:
    assert password_problems("Zal9!pwqrt", email="al@example.com") == []


@pytest.mark.parametrize("password", ["correcthorse12", "CORRECTHORSE!!", "correct horse"])
def test_under_sixteen_characters_a_password_needs_three_character_classes(password: str) -> None:
    [problem] = password_problems(password)

    assert problem.description.startswith("use at least three of")


def test_under_sixteen_characters_three_character_classes_are_enough() -> None:
    assert password_problems("Correcthorse12") == []


@pytest.mark.parametrize(
    "passphrase", ["correcthorsebatterystaple", "correct horse battery", "a" * 15 + "bcd"]
)
def test_a_long_passphrase_needs_no_mix_of_classes(passphrase: str) -> None:
    assert password_problems(passphrase) == []


def test_a_password_longer_than_the_maximum_is_refused() -> None:
    password = "Ab1!" + "x" * (domain.MAX_PASSWORD - 3)

    assert password_problems(password) == [FieldViolation("password", "at most 256 characters")]


def test_a_password_of_the_maximum_length_is_accepted() -> None:
    assert password_problems("Ab1!" + "x" * (domain.MAX_PASSWORD - 4)) == []


@pytest.mark.parametrize(
    "password",
    ["", "Ab1!", "x" * 300, "Password123", "Ab1Ab1Ab1Ab1", "my-ada.lovelace-9", "correcthorse12"],
)
def test_every_password_violation_names_the_field_it_was_given(password: str) -> None:
    problems = password_problems(password, email="ada.lovelace@example.com", field="user.password")

    assert len(problems) == 1
    assert problems[0].field == "user.password"


def test_an_email_is_normalized_to_trimmed_lowercase() -> None:
    assert domain.normalize_email("  Ada.Lovelace@Example.COM \n") == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    "email", ["ada@example.com", "ada+stock@mail.example.co.uk", "o'brien@example.ie", "a.b-c_d@ex-ample.io"]
)
def test_a_well_formed_email_is_accepted(email: str) -> None:
    assert email_problems(email) == []


def test_an_empty_email_is_required() -> None:
    assert email_problems("") == [FieldViolation("email", "required")]


@pytest.mark.parametrize(
    "email",
    [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada lovelace@example.com",
        "ada@-example.com",
        "ada@example-.com",
        "a" * 243 + "@example.com",
    ],
)
def test_a_malformed_email_is_refused(email: str) -> None:
    assert email_problems(email) == [FieldViolation("email", "not a valid email address")]


@pytest.mark.parametrize("slug", ["a", "acme", "acme-east-2", "0", "a" * 40])
def test_a_slug_of_lowercase_letters_digits_and_inner_hyphens_is_accepted(slug: str) -> None:
    assert slug_problems(slug) == []


@pytest.mark.parametrize("slug", ["", "-acme", "acme-", "Acme", "ac_me", "ac me", "acmé", "a" * 41])
def test_a_slug_breaking_the_rules_is_refused(slug: str) -> None:
    [problem] = slug_problems(slug)

    assert problem.field == "slug"


def test_a_slug_with_a_trailing_newline_is_refused() -> None:
    assert len(slug_problems("acme\n")) == 1


def test_the_first_failed_logins_cost_nothing() -> None:
    assert all(domain.lock_after_failure(n, NOW) is None for n in range(domain.FREE_ATTEMPTS))


def test_each_failure_past_the_free_attempts_doubles_the_lock() -> None:
    locks = [domain.lock_after_failure(domain.FREE_ATTEMPTS + n, NOW) for n in range(4)]

    assert locks == [NOW + timedelta(seconds=s) for s in (30, 60, 120, 240)]


@pytest.mark.parametrize("failures", [domain.FREE_ATTEMPTS + 5, domain.FREE_ATTEMPTS + 11, 10_000])
def test_the_lock_never_exceeds_the_maximum(failures: int) -> None:
    assert domain.lock_after_failure(failures, NOW) == NOW + domain.LOCK_MAX


def test_an_unused_unexpired_refresh_token_reads_as_valid() -> None:
    token = refresh_token(expires_at=NOW + timedelta(seconds=1))

    assert token.state(NOW) is domain.RefreshState.VALID


def test_a_rotated_refresh_token_reads_as_spent() -> None:
    token = refresh_token(expires_at=NOW + timedelta(days=1), used_at=NOW - timedelta(minutes=1))

    assert token.state(NOW) is domain.RefreshState.SPENT


def test_a_revoked_refresh_token_reads_as_revoked_even_once_spent_or_expired() -> None:
    token = refresh_token(expires_at=NOW - timedelta(days=1), used_at=NOW, revoked_at=NOW)

    assert token.state(NOW) is domain.RefreshState.REVOKED


def test_a_refresh_token_reads_as_expired_from_its_expiry_instant() -> None:
    token = refresh_token(expires_at=NOW)

    assert token.state(NOW) is domain.RefreshState.EXPIRED


def test_a_spent_refresh_token_reads_as_spent_after_expiry_too() -> None:
    token = refresh_token(expires_at=NOW - timedelta(days=1), used_at=NOW - timedelta(days=2))

    assert token.state(NOW) is domain.RefreshState.SPENT


@pytest.mark.parametrize(
    "changed",
    [user("ada", Role.MANAGER), user("ada", Role.ADMIN, disabled=True)],
    ids=["admin-role-removed", "admin-disabled"],
)
def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(changed: domain.User) -> None:
    everyone = [user("ada", Role.ADMIN), user("bob", Role.CLERK), user("eve", Role.ADMIN, disabled=True)]

    with pytest.raises(FailedPrecondition) as refused:
        domain.keeps_an_admin(everyone, changed)

    assert refused.value.reason == "LAST_ADMIN"
    assert [v.subject for v in refused.value.violations] == ["users/ada"]


@pytest.mark.parametrize(
    "changed",
    [user("ada", Role.MANAGER), user("ada", Role.ADMIN, disabled=True)],
    ids=["admin-role-removed", "admin-disabled"],
)
def test_an_admin_may_be_demoted_or_disabled_while_another_enabled_admin_remains(
    changed: domain.User,
) -> None:
    everyone = [user("ada", Role.ADMIN), user("grace", Role.ADMIN, Role.VIEWER)]

    domain.keeps_an_admin(everyone, changed)


def test_changing_another_user_leaves_the_sole_admin_alone() -> None:
    everyone = [user("ada", Role.ADMIN), user("bob", Role.CLERK)]

    domain.keeps_an_admin(everyone, user("bob", Role.VIEWER, disabled=True))
