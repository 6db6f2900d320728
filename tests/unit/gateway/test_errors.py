"""Every gRPC status becomes grpc-gateway's HTTP status and the JSON form of
google.rpc.Status, details included."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc import aio

from gateway import errors

EXPECTED = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def failure(code: grpc.StatusCode, message: str, details: list[any_pb2.Any] | None = None) -> aio.AioRpcError:
    trailing = aio.Metadata()
    if details is not None:
        sent = status_pb2.Status(code=code.value[0], message=message, details=details)
        trailing.add("grpc-status-details-bin", sent.SerializeToString())
    return aio.AioRpcError(code, aio.Metadata(), trailing, details=message, debug_error_string="")


def test_the_table_covers_every_grpc_code() -> None:
    assert set(EXPECTED) == set(grpc.StatusCode)


@pytest.mark.parametrize(("code", "http"), EXPECTED.items(), ids=[c.name for c in EXPECTED])
def test_each_grpc_code_maps_to_grpc_gateways_http_status(code: grpc.StatusCode, http: int) -> None:
    status_code, sent = errors.of_rpc_error(failure(code, "what happened"))

    assert status_code == http
    assert sent.code == code.value[0]
    assert json.loads(errors.body(sent)) == {
        "code": code.value[0],
        "message": "what happened",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": code.name,
                "domain": "stockmesh.io",
            }
        ],
    }


def test_details_the_service_sent_arrive_as_any_json_with_their_type() -> None:
    info, short = any_pb2.Any(), any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="INSUFFICIENT_STOCK", domain="stockmesh.io"))
    short.Pack(
        error_details_pb2.PreconditionFailure(
            violations=[error_details_pb2.PreconditionFailure.Violation(type="STOCK", subject="SKU-1")]
        )
    )
    status_code, sent = errors.of_rpc_error(
        failure(grpc.StatusCode.FAILED_PRECONDITION, "short", [info, short])
    )

    body = json.loads(errors.body(sent))
    assert status_code == 400
    assert body["details"][0] == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "INSUFFICIENT_STOCK",
        "domain": "stockmesh.io",
    }
    assert body["details"][1]["@type"] == "type.googleapis.com/google.rpc.PreconditionFailure"
    assert body["details"][1]["violations"] == [{"type": "STOCK", "subject": "SKU-1"}]


def test_a_detail_of_a_type_unknown_here_keeps_its_bytes_instead_of_failing() -> None:
    unknown = any_pb2.Any(type_url="type.googleapis.com/acme.Secret", value=b"\x08\x01")
    _, sent = errors.of_rpc_error(failure(grpc.StatusCode.INTERNAL, "boom", [unknown]))

    body = json.loads(errors.body(sent))
    assert body["code"] == code_pb2.INTERNAL
    assert body["details"] == [{"@type": "type.googleapis.com/acme.Secret", "value": "CAE="}]


def test_retry_info_becomes_a_retry_after_in_whole_seconds() -> None:
    retry = any_pb2.Any()
    retry.Pack(error_details_pb2.RetryInfo(retry_delay={"seconds": 2, "nanos": 1}))
    _, sent = errors.of_rpc_error(failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", [retry]))

    assert errors.retry_after(sent) == 3


def test_an_edge_refusal_has_the_same_shape_with_a_reason_and_field() -> None:
    refusal = errors.bad_request("malformed JSON at line 1 column 2", "MALFORMED_JSON", "body")

    body = json.loads(errors.body(refusal.status))
    assert refusal.http_status == 400
    assert body["code"] == code_pb2.INVALID_ARGUMENT
    assert body["details"][0]["reason"] == "MALFORMED_JSON"
    assert body["details"][1]["fieldViolations"] == [
        {"field": "body", "description": "malformed JSON at line 1 column 2"}
    ]
