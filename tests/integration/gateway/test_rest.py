"""The REST edge over the real services: the proto3 JSON mapping both ways,
fields from the path, body and query, exactly-once retries with
`Idempotency-Key`, etags as `ETag`/`If-Match`, and request ids."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.gateway.conftest import Rest


def product(rest: Rest, **fields: Any) -> dict[str, Any]:
    body = {"displayName": f"Hammer {uuid.uuid4().hex[:6]}", "brand": "Acme", **fields}
    reply = rest.post("/v1/products", body)
    assert reply.status_code == 200, reply.text
    created: dict[str, Any] = reply.json()["product"]
    return created


def variant(rest: Rest, parent: str) -> dict[str, Any]:
    sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
    reply = rest.post(
        f"/v1/{parent}/variants",
        {"sku": sku, "unitOfMeasure": "EA", "listPrice": {"currencyCode": "EUR", "units": "12", "nanos": 0}},
    )
    assert reply.status_code == 200, reply.text
    created: dict[str, Any] = reply.json()["variant"]
    return created


def warehouse(rest: Rest) -> str:
    code = f"W{uuid.uuid4().hex[:6].upper()}"
    reply = rest.post("/v1/warehouses", {"code": code, "displayName": f"Store {code}"})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["warehouse"]["name"])


def test_a_created_resource_reads_back_in_camel_case_with_output_fields_and_an_etag(rest: Rest) -> None:
    created = product(rest, category="Tools/Hand")
    reply = rest.get(f"/v1/{created['name']}")

    body = reply.json()["product"]
    assert reply.status_code == 200
    assert body["displayName"] == created["displayName"]
    assert body["category"] == "Tools/Hand"
    assert body["createTime"].endswith("Z")  # RFC 3339
    assert body["status"] == "PRODUCT_STATUS_ACTIVE"  # enums by name
    assert reply.headers["etag"] == f'"{body["etag"]}"'


def test_int64_is_printed_as_a_string_and_accepted_in_either_form(rest: Rest) -> None:
    where = warehouse(rest)
    sku = variant(rest, product(rest)["name"])["sku"]
    for quantity in (5, "7"):
        reply = rest.post(f"/v1/{where}/stockLevels:receive", {"lines": [{"sku": sku, "quantity": quantity}]})
        assert reply.status_code == 200, reply.text

    level = rest.get(f"/v1/{where}/stockLevels/{sku}").json()["stockLevel"]
    assert level["onHand"] == "12"
    assert level["reserved"] == "0"  # printed although zero


def test_an_update_takes_its_mask_from_the_query_and_refuses_a_stale_if_match(rest: Rest) -> None:
    created = product(rest)
    name, etag = created["name"], created["etag"]

    updated = rest.patch(
        f"/v1/{name}?updateMask=displayName",
        {"displayName": "Claw hammer"},
        headers={"If-Match": f'"{etag}"'},
    )
    stale = rest.patch(
        f"/v1/{name}?updateMask=displayName", {"displayName": "Sledge"}, headers={"If-Match": f'"{etag}"'}
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["product"]["displayName"] == "Claw hammer"
    assert stale.status_code == 409
    assert stale.json()["details"][0]["reason"] == "ETAG_MISMATCH"


def test_if_none_match_with_the_current_etag_is_not_modified(rest: Rest) -> None:
    created = product(rest)
    first = rest.get(f"/v1/{created['name']}")

    again = rest.get(f"/v1/{created['name']}", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""


def test_a_retry_with_the_same_idempotency_key_takes_effect_once(rest: Rest) -> None:
    where = warehouse(rest)
    sku = variant(rest, product(rest)["name"])["sku"]
    key = str(uuid.uuid4())
    body = {"lines": [{"sku": sku, "quantity": 4}]}

    first = rest.post(f"/v1/{where}/stockLevels:receive", body, headers={"Idempotency-Key": key})
    retry = rest.post(f"/v1/{where}/stockLevels:receive", body, headers={"Idempotency-Key": key})

    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()
    assert rest.get(f"/v1/{where}/stockLevels/{sku}").json()["stockLevel"]["onHand"] == "4"


def test_query_filters_nested_repeated_and_enum_names_reach_the_service(rest: Rest) -> None:
    where = warehouse(rest)
    sku = variant(rest, product(rest)["name"])["sku"]
    rest.post(f"/v1/{where}/stockLevels:receive", {"lines": [{"sku": sku, "quantity": 3}]})
    rest.post(
        f"/v1/{where}/stockLevels:adjust",
        {"lines": [{"sku": sku, "quantityDelta": "-1", "reason": "ADJUSTMENT_REASON_DAMAGE"}]},
    )

    receipts = rest.get("/v1/movements", params=[("sku", sku), ("types", "MOVEMENT_TYPE_RECEIPT")])
    both = rest.get(
        "/v1/movements",
        params=[("sku", sku), ("types", "MOVEMENT_TYPE_RECEIPT"), ("types", "MOVEMENT_TYPE_ADJUSTMENT")],
    )

    assert receipts.status_code == 200, receipts.text
    assert [m["type"] for m in receipts.json()["movements"]] == ["MOVEMENT_TYPE_RECEIPT"]
    assert len(both.json()["movements"]) == 2


def test_pages_follow_next_page_token(rest: Rest) -> None:
    for _ in range(3):
        warehouse(rest)
    first = rest.get("/v1/warehouses", params={"pageSize": 2}).json()
    second = rest.get("/v1/warehouses", params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()

    assert len(first["warehouses"]) == 2
    assert first["nextPageToken"]
    assert {w["name"] for w in first["warehouses"]}.isdisjoint(w["name"] for w in second["warehouses"])


def test_the_request_id_is_echoed_and_minted_when_absent(rest: Rest) -> None:
    given = rest.get("/v1/warehouses", headers={"X-Request-Id": "trace-me-123"})
    minted = rest.get("/v1/warehouses")

    assert given.headers["x-request-id"] == "trace-me-123"
    assert len(minted.headers["x-request-id"]) == 32


def test_the_jwks_is_open_at_both_of_its_paths(rest: Rest) -> None:
    plain = rest.http.get("/v1/jwks")
    well_known = rest.http.get("/.well-known/jwks.json")

    assert plain.status_code == well_known.status_code == 200
    assert plain.json() == well_known.json()
    assert plain.json()["keys"][0]["kty"] == "EC"


def test_large_responses_are_compressed_for_clients_that_accept_it(rest: Rest) -> None:
    for _ in range(12):
        warehouse(rest)

    reply = rest.get("/v1/warehouses", params={"pageSize": 50}, headers={"Accept-Encoding": "gzip"})

    assert reply.headers.get("content-encoding") == "gzip"
    assert len(reply.json()["warehouses"]) >= 12
