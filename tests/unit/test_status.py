"""Specifications of how service errors travel as gRPC statuses with google.rpc details."""

from __future__ import annotations

from typing import TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from kit import errors, status
from kit.errors import FieldViolation, PreconditionViolation

M = TypeVar("M", bound=Message)

CASES: list[tuple[errors.ServiceError, grpc.StatusCode]] = [
    (errors.InvalidArgument([FieldViolation("user.email", "required")]), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound("user", "users/ada"), grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists("tenant", "acme", field="slug"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition("no admin left", reason="LAST_ADMIN"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Aborted("serialization failure"), grpc.StatusCode.ABORTED),
    (errors.EtagMismatch("users/ada"), grpc.StatusCode.ABORTED),
    (errors.Unauthenticated("expired", reason="TOKEN_EXPIRED"), grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied("viewers may not", reason="ROLE_REQUIRED"), grpc.StatusCode.PERMISSION_DENIED),
    (errors.ResourceExhausted("slow down", retry_after_seconds=2), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable("db down"), grpc.StatusCode.UNAVAILABLE),
]
CASE_IDS = [type(error).__name__ for error, _ in CASES]


def sent_status(sent: grpc.Status) -> status_pb2.Status:
    blob = dict(sent.trailing_metadata)["grpc-status-details-bin"]
    assert isinstance(blob, bytes)
    return status_pb2.Status.FromString(blob)


def details(sent: grpc.Status, kind: type[M]) -> list[M]:
    found = []
    for packed in sent_status(sent).details:
        if packed.Is(kind.DESCRIPTOR):
            message = kind()
            packed.Unpack(message)
            found.append(message)
    return found


def received(sent: grpc.Status) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        sent.code,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=grpc.aio.Metadata(*sent.trailing_metadata),
        details=sent.details,
    )


def every_error_type() -> list[type[errors.ServiceError]]:
    found, pending = [], [errors.ServiceError]
    while pending:
        subclasses = pending.pop().__subclasses__()
        found += subclasses
        pending += subclasses
    return found


@pytest.mark.parametrize(("error", "code"), CASES, ids=CASE_IDS)
def test_each_error_is_sent_with_its_grpc_code(error: errors.ServiceError, code: grpc.StatusCode) -> None:
    sent = status.to_status(error)

    assert status.code_of(error) is code
    assert sent.code is code
    assert sent_status(sent).code == code.value[0]


@pytest.mark.parametrize("error_type", every_error_type(), ids=lambda t: t.__name__)
def test_every_error_type_has_a_code_in_the_table(error_type: type[errors.ServiceError]) -> None:
    assert any(cls in status.CODES for cls in error_type.__mro__)


def test_an_error_outside_the_table_is_unknown() -> None:
    assert status.code_of(errors.ServiceError("odd")) is grpc.StatusCode.UNKNOWN


@pytest.mark.parametrize(("error", "code"), CASES, ids=CASE_IDS)
def test_every_error_carries_its_reason_domain_and_message(
    error: errors.ServiceError, code: grpc.StatusCode
) -> None:
    sent = status.to_status(error)

    [info] = details(sent, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == (error.reason, "stockmesh.io", error.metadata)
    assert sent.details == sent_status(sent).message == error.message


def test_a_not_found_error_names_the_resource_in_its_metadata() -> None:
    [info] = details(status.to_status(errors.NotFound("user", "users/ada")), error_details_pb2.ErrorInfo)

    assert dict(info.metadata) == {"resource_type": "user", "name": "users/ada"}


def test_invalid_argument_names_each_bad_field() -> None:
    error = errors.InvalidArgument(
        [FieldViolation("user.email", "required"), FieldViolation("user.password", "at least 10 characters")]
    )

    [bad] = details(status.to_status(error), error_details_pb2.BadRequest)

    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("user.email", "required"),
        ("user.password", "at least 10 characters"),
    ]


def test_failed_precondition_lists_each_unmet_condition() -> None:
    error = errors.FailedPrecondition(
        "not enough stock",
        [PreconditionViolation("STOCK", "skus/A-1", "3 requested, 1 available")],
        reason="INSUFFICIENT_STOCK",
    )

    [failure] = details(status.to_status(error), error_details_pb2.PreconditionFailure)

    assert [(v.type, v.subject, v.description) for v in failure.violations] == [
        ("STOCK", "skus/A-1", "3 requested, 1 available")
    ]


def test_resource_exhausted_says_when_to_retry() -> None:
    error = errors.ResourceExhausted("too many logins", retry_after_seconds=1.5)

    [retry] = details(status.to_status(error), error_details_pb2.RetryInfo)

    assert retry.retry_delay.ToNanoseconds() == 1_500_000_000


def test_errors_carry_only_the_details_of_their_kind() -> None:
    sent = status.to_status(errors.NotFound("user", "users/ada"))

    assert [d.TypeName() for d in sent_status(sent).details] == ["google.rpc.ErrorInfo"]


def test_an_unexpected_failure_is_sent_as_internal_without_its_text() -> None:
    sent = status.internal_status()

    assert sent.code is grpc.StatusCode.INTERNAL
    assert sent.details == "internal error"
    [info] = details(sent, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == ("INTERNAL", "stockmesh.io", {})
    assert len(sent_status(sent).details) == 1


def test_a_client_reads_back_the_code_reason_and_bad_fields() -> None:
    error = errors.InvalidArgument([FieldViolation("page_size", "must not be negative")], reason="BAD_PAGE")

    got = status.details_of(received(status.to_status(error)))

    assert (got.code, got.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "BAD_PAGE")
    assert got.message == "page_size: must not be negative"
    assert got.field_violations == {"page_size": "must not be negative"}


def test_a_client_reads_back_the_reason_metadata() -> None:
    got = status.details_of(received(status.to_status(errors.EtagMismatch("users/ada"))))

    assert (got.code, got.reason, got.metadata) == (
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
        {"name": "users/ada"},
    )


def test_a_client_reads_back_the_unmet_preconditions() -> None:
    violation = PreconditionViolation("ADMIN", "users/ada", "the last enabled admin must stay")
    error = errors.FailedPrecondition("no admin left", [violation], reason="LAST_ADMIN")

    got = status.details_of(received(status.to_status(error)))

    assert [(v.type, v.subject, v.description) for v in got.precondition_violations] == [
        ("ADMIN", "users/ada", "the last enabled admin must stay")
    ]


def test_a_client_reads_back_the_retry_delay() -> None:
    error = errors.ResourceExhausted("too many logins", retry_after_seconds=30, reason="LOGIN_THROTTLED")

    got = status.details_of(received(status.to_status(error)))

    assert (got.reason, got.retry_delay_seconds) == ("LOGIN_THROTTLED", 30.0)


def test_a_client_reading_an_error_without_details_gets_code_and_message_only() -> None:
    bare = grpc.aio.AioRpcError(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=grpc.aio.Metadata(),
        details="Deadline Exceeded",
    )

    got = status.details_of(bare)

    assert (got.code, got.message, got.reason, got.field_violations) == (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "Deadline Exceeded",
        "",
        {},
    )


def test_a_neighbours_refusal_is_raised_again_as_the_same_kit_error() -> None:
    short = errors.FailedPrecondition(
        "not enough stock",
        [
            errors.PreconditionViolation(
                "INSUFFICIENT_STOCK", "warehouses/w/stockLevels/A", "requested 5, available 2"
            )
        ],
        reason="INSUFFICIENT_STOCK",
    )

    again = status.error_of(received(status.to_status(short)))

    assert isinstance(again, errors.FailedPrecondition)
    assert (again.reason, again.violations) == ("INSUFFICIENT_STOCK", short.violations)


def test_a_neighbours_bad_input_keeps_its_field_violations() -> None:
    bad = errors.InvalidArgument([errors.FieldViolation("lines[1].sku", "unknown")], reason="UNKNOWN_SKU")

    again = status.error_of(received(status.to_status(bad)))

    assert isinstance(again, errors.InvalidArgument)
    assert (again.reason, again.violations) == ("UNKNOWN_SKU", bad.violations)


def test_a_neighbours_internal_failure_reads_as_unavailable_here() -> None:
    again = status.error_of(received(status.internal_status()))

    assert isinstance(again, errors.Unavailable)
    assert again.reason == "UPSTREAM_FAILED"
