"""Specifications of page sizes, page tokens and etags."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from kit import etag, paging
from kit.errors import EtagMismatch, FieldViolation, InvalidArgument


def token_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(("requested", "granted"), [(0, 50), (1, 1), (200, 200), (1000, 1000), (5000, 1000)])
def test_an_unset_page_size_defaults_and_a_large_one_is_capped(requested: int, granted: int) -> None:
    assert paging.page_size(requested) == granted


def test_a_negative_page_size_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as refused:
        paging.page_size(-1)

    assert [v.field for v in refused.value.violations] == ["page_size"]


def test_a_cursor_survives_a_round_trip_through_a_page_token() -> None:
    cursor = {"after": "2025-03-01T12:00:00Z", "id": "b2c1", "n": 3, "tie": None}

    assert paging.decode(paging.encode(cursor)) == cursor


def test_a_page_token_is_url_safe() -> None:
    token = paging.encode({"id": "ÿ>>>???~~~" * 5})

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def test_an_empty_page_token_is_the_first_page() -> None:
    assert paging.decode("") == {}


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "%%%",
        token_of(b"not json"),
        token_of(b"\xff\xfe\x00"),
        token_of(b"[1, 2]"),
        token_of(b"null"),
        token_of(b'"cursor"'),
        paging.encode({"id": "b2c1"})[:-4],
        token_of(b"[" * 5000),
    ],
    ids=["symbols", "percent", "text", "binary", "list", "null", "string", "truncated", "deeply-nested"],
)
def test_a_garbage_page_token_is_refused_naming_the_field(token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        paging.decode(token)

    assert refused.value.violations == (FieldViolation("page_token", "not a token from an earlier response"),)


NOT_THIS_REQUEST = FieldViolation("page_token", "not a token from a previous page of this same request")
FIELDS: dict[str, type] = {"t": datetime, "id": str, "n": int}


def test_a_filters_digest_is_stable_and_tells_every_parameter_apart() -> None:
    digest = paging.filters_digest("w-1", ["A", "B"], None, datetime(2026, 3, 1, tzinfo=UTC), False)

    assert digest == paging.filters_digest("w-1", ["A", "B"], None, datetime(2026, 3, 1, tzinfo=UTC), False)
    assert (
        len(
            {
                digest,
                paging.filters_digest("w-2", ["A", "B"], None, datetime(2026, 3, 1, tzinfo=UTC), False),
                paging.filters_digest("w-1", ["A"], None, datetime(2026, 3, 1, tzinfo=UTC), False),
                paging.filters_digest("w-1", ["A", "B"], "", datetime(2026, 3, 1, tzinfo=UTC), False),
                paging.filters_digest("w-1", ["A", "B"], None, datetime(2026, 3, 2, tzinfo=UTC), False),
                paging.filters_digest("w-1", ["A", "B"], None, datetime(2026, 3, 1, tzinfo=UTC), True),
            }
        )
        == 6
    )


def test_a_cursor_comes_back_from_a_token_made_for_the_same_filters() -> None:
    filters = paging.filters_digest("w-1")
    cursor = {"t": "2026-03-01T12:00:00+00:00", "id": "b2c1", "n": 3, "f": filters}

    assert paging.cursor_for(paging.encode(cursor), filters, FIELDS) == cursor
    assert paging.cursor_for("", filters, FIELDS) == {}


@pytest.mark.parametrize(
    "cursor",
    [
        {"t": "2026-03-01T12:00:00+00:00", "id": "b2c1", "n": 3, "f": paging.filters_digest("w-2")},
        {"t": "2026-03-01T12:00:00+00:00", "id": "b2c1", "n": 3},
        {"t": "2026-03-01T12:00:00+00:00", "id": 7, "n": 3, "f": paging.filters_digest("w-1")},
        {"t": "2026-03-01T12:00:00+00:00", "id": "b2c1", "f": paging.filters_digest("w-1")},
        {"t": "yesterday", "id": "b2c1", "n": 3, "f": paging.filters_digest("w-1")},
        {"t": "2026-03-01T12:00:00", "id": "b2c1", "n": 3, "f": paging.filters_digest("w-1")},
    ],
    ids=["other-filters", "from-before-digests", "wrong-type", "missing-field", "not-a-time", "no-offset"],
)
def test_a_token_of_another_request_or_with_bad_fields_is_refused_naming_the_field(
    cursor: dict[str, object],
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        paging.cursor_for(paging.encode(cursor), paging.filters_digest("w-1"), FIELDS)

    assert refused.value.violations == (NOT_THIS_REQUEST,)


def test_an_etag_is_stable() -> None:
    assert etag.etag("users/ada", 3) == etag.etag("users/ada", 3)


def test_an_etag_differs_by_version_and_by_name() -> None:
    assert len({etag.etag("users/ada", 3), etag.etag("users/ada", 4), etag.etag("users/bob", 3)}) == 3


def test_an_empty_etag_accepts_whatever_is_there() -> None:
    etag.check("users/ada", 7, "")


def test_the_current_etag_is_accepted() -> None:
    etag.check("users/ada", 7, etag.etag("users/ada", 7))


@pytest.mark.parametrize("given", [etag.etag("users/ada", 6), etag.etag("users/bob", 7), "W/stale"])
def test_a_stale_or_foreign_etag_is_refused(given: str) -> None:
    with pytest.raises(EtagMismatch) as refused:
        etag.check("users/ada", 7, given)

    assert refused.value.reason == "ETAG_MISMATCH"
    assert refused.value.metadata == {"name": "users/ada"}
