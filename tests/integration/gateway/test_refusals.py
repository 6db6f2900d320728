"""Every refusal, the edge's own or a service's, is the JSON form of
google.rpc.Status with grpc-gateway's HTTP status; bad input is never a 500
and no response carries a traceback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.gateway.conftest import Rest


def status(reply: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body: dict[str, Any] = reply.json()
    assert reply.headers["content-type"].startswith("application/json")
    assert set(body) == {"code", "message", "details"}
    assert "Traceback" not in reply.text
    reason = next(d["reason"] for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo"))
    return reply.status_code, reason, body


def violations(body: dict[str, Any]) -> list[str]:
    return [
        v["field"]
        for d in body["details"]
        if d["@type"].endswith("google.rpc.BadRequest")
        for v in d["fieldViolations"]
    ]


def test_an_unknown_path_is_404(rest: Rest) -> None:
    code, reason, body = status(rest.get("/v1/unicorns"))

    assert (code, reason, body["code"]) == (404, "ROUTE_NOT_FOUND", 5)


def test_a_wrong_method_is_405_with_allow(rest: Rest) -> None:
    reply = rest.http.delete("/v1/warehouses", headers=rest.auth())
    code, reason, _ = status(reply)

    assert (code, reason) == (405, "METHOD_NOT_ALLOWED")
    assert reply.headers["allow"] == "GET, POST"


def test_malformed_json_is_400_naming_where(rest: Rest) -> None:
    reply = rest.http.post(
        "/v1/warehouses",
        content=b'{"code": "X1",\n "displayName": }',
        headers={**rest.auth(), "Content-Type": "application/json"},
    )
    code, reason, body = status(reply)

    assert (code, reason) == (400, "MALFORMED_JSON")
    assert "line 2 column" in body["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "X1", "displayName": "X", "colour": "red"}, "warehouse.colour"),
        ({"code": "X1", "displayName": ["not", "a", "string"]}, "warehouse.displayName"),
        ({"code": "X1", "address": {"postalCode": 10115}}, "warehouse.address.postalCode"),
    ],
)
def test_an_unknown_field_or_a_wrong_type_is_400_naming_the_field(
    rest: Rest, payload: dict[str, Any], field: str
) -> None:
    code, _, body = status(rest.post("/v1/warehouses", payload))

    assert code == 400
    assert violations(body) == [field]


def test_a_body_over_the_limit_is_413(rest: Rest) -> None:
    big = b'{"code": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    reply = rest.http.post(
        "/v1/warehouses", content=big, headers={**rest.auth(), "Content-Type": "application/json"}
    )
    code, reason, _ = status(reply)

    assert (code, reason) == (413, "BODY_TOO_LARGE")


def test_a_body_that_is_not_json_is_415(rest: Rest) -> None:
    reply = rest.http.post(
        "/v1/warehouses", content=b"code=X1", headers={**rest.auth(), "Content-Type": "text/plain"}
    )
    code, reason, _ = status(reply)

    assert (code, reason) == (415, "UNSUPPORTED_MEDIA_TYPE")


def test_an_unknown_or_malformed_query_parameter_is_400_naming_it(rest: Rest) -> None:
    unknown = status(rest.get("/v1/warehouses", params={"colour": "red"}))
    malformed = status(rest.get("/v1/warehouses", params={"pageSize": "lots"}))

    assert unknown[:2] == (400, "INVALID_QUERY_PARAMETER")
    assert violations(unknown[2]) == ["colour"]
    assert malformed[0] == 400
    assert "pageSize" in malformed[2]["message"] or "page_size" in malformed[2]["message"]


def test_no_token_an_invalid_token_and_a_forged_token_are_401(rest: Rest) -> None:
    missing = rest.http.get("/v1/warehouses")
    garbage = rest.http.get("/v1/warehouses", headers={"Authorization": "Bearer not-a-jwt"})
    scheme = rest.http.get("/v1/warehouses", headers={"Authorization": "Basic dXNlcjpwdw=="})

    assert status(missing)[:2] == (401, "TOKEN_MISSING")
    assert status(garbage)[:2] == (401, "TOKEN_INVALID")
    assert status(scheme)[:2] == (401, "TOKEN_INVALID")
    assert missing.headers["www-authenticate"].startswith("Bearer")


def test_a_role_the_service_refuses_is_403(rest: Rest) -> None:
    email = f"viewer-{rest.tenant}@example.test"
    created = rest.post(
        "/v1/users", {"email": email, "password": "Correct-Horse-9-Battery", "roles": ["ROLE_VIEWER"]}
    )
    assert created.status_code == 200, created.text
    viewer = rest.login(email)["tokens"]["accessToken"]

    reply = rest.http.post(
        "/v1/warehouses",
        json={"code": "V1", "displayName": "V"},
        headers={"Authorization": f"Bearer {viewer}"},
    )

    assert status(reply)[:2] == (403, "ROLE_REQUIRED")


def test_a_services_refusal_keeps_its_details(rest: Rest) -> None:
    code, reason, body = status(rest.get("/v1/warehouses/does-not-exist"))

    assert (code, reason) == (404, "NOT_FOUND")
    assert body["details"][0]["metadata"] == {
        "name": "warehouses/does-not-exist",
        "resource_type": "warehouse",
    }


def test_a_deadline_the_client_asks_for_is_kept_and_a_bad_one_refused(rest: Rest) -> None:
    expired = rest.get("/v1/warehouses", headers={"grpc-timeout": "1n"})
    bad = rest.get("/v1/warehouses", headers={"grpc-timeout": "soon"})

    assert status(expired)[0] == 504
    assert status(bad)[:2] == (400, "INVALID_TIMEOUT")
