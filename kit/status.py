"""The one table from `kit.errors` to gRPC status codes with `google.rpc` details.

Every non-OK status we send carries an `ErrorInfo` (reason, domain, metadata);
bad input adds `BadRequest` field violations, refused state adds
`PreconditionFailure`, throttling adds `RetryInfo`. Clients read them back with
`details_of`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from kit import errors

DOMAIN = "stockmesh.io"

# Codes that are the server's fault, not the caller's: a span ending with one
# is marked as an error, as OpenTelemetry's gRPC conventions say.
SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

CODES: dict[type[errors.ServiceError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Aborted: grpc.StatusCode.ABORTED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.OutOfRange: grpc.StatusCode.OUT_OF_RANGE,
    errors.Cancelled: grpc.StatusCode.CANCELLED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def code_of(error: errors.ServiceError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if issubclass(cls, errors.ServiceError) and cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.UNKNOWN


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: errors.ServiceError) -> grpc.Status:
    """The status, message and details that `error` is sent as."""
    code = code_of(error)
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))
    ]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                        for v in error.violations
                    ]
                )
            )
        )
    if isinstance(error, errors.FailedPrecondition) and error.violations:
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type=v.type, subject=v.subject, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    if isinstance(error, errors.ResourceExhausted) and error.retry_after_seconds:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_seconds * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    status = status_pb2.Status(code=code.value[0], message=error.message, details=details)
    return rpc_status.to_status(status)


def internal_status() -> grpc.Status:
    """What an unexpected exception is sent as: nothing of its text leaks."""
    status = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message="internal error",
        details=[_pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=DOMAIN))],
    )
    return rpc_status.to_status(status)


@dataclass
class StatusDetails:
    """The `google.rpc` details of a received error, decoded."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    field_violations: dict[str, str] = field(default_factory=dict)
    precondition_violations: list[error_details_pb2.PreconditionFailure.Violation] = field(
        default_factory=list
    )
    retry_delay_seconds: float | None = None


def details_of(error: grpc.RpcError) -> StatusDetails:
    """Decode the status and details a server sent with `error` (sync or aio call)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or ""
    out = StatusDetails(code=code, message=message)
    trailing: Any = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    blob = next((v for k, v in (trailing or ()) if k == "grpc-status-details-bin"), None)
    if not isinstance(blob, bytes):
        return out
    status = status_pb2.Status.FromString(blob)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            out.reason, out.metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out.field_violations = {v.field: v.description for v in bad.field_violations}
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            out.precondition_violations = list(failure.violations)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            out.retry_delay_seconds = retry.retry_delay.ToNanoseconds() / 1e9
    return out


_RAISED_AGAIN: dict[grpc.StatusCode, type[errors.ServiceError]] = {
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: errors.Unavailable,
    grpc.StatusCode.OUT_OF_RANGE: errors.OutOfRange,
    grpc.StatusCode.CANCELLED: errors.Cancelled,
}


def error_of(error: grpc.RpcError) -> errors.ServiceError:
    """A refusal received from another service as the kit error it stands
    for, details included, so a caller of ours sees the neighbour's reason
    (the inverse of `to_status`). Any other code (INTERNAL, UNKNOWN, ...)
    becomes UNAVAILABLE: the neighbour failed, and nothing here changed."""
    got = details_of(error)
    reason = got.reason or None
    if got.code == grpc.StatusCode.FAILED_PRECONDITION:
        violations = [
            errors.PreconditionViolation(v.type, v.subject, v.description)
            for v in got.precondition_violations
        ]
        return errors.FailedPrecondition(got.message, violations, reason=reason, metadata=got.metadata)
    if got.code == grpc.StatusCode.INVALID_ARGUMENT:
        fields = [errors.FieldViolation(f, d) for f, d in got.field_violations.items()]
        return errors.InvalidArgument(fields, message=got.message, reason=reason)
    if got.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS):
        kind = errors.NotFound if got.code == grpc.StatusCode.NOT_FOUND else errors.AlreadyExists
        key = got.metadata.get("name") or got.metadata.get("key", "")
        missing = kind(got.metadata.get("resource_type", "resource"), key)
        # The neighbour's own words and reason, not only what kit would have said.
        missing.message, missing.reason = got.message or missing.message, reason or missing.reason
        return missing
    if got.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.ResourceExhausted(
            got.message, retry_after_seconds=got.retry_delay_seconds, reason=reason
        )
    cls = _RAISED_AGAIN.get(got.code)
    if cls is None:
        return errors.Unavailable(
            f"a neighbouring service failed ({got.code.name})", reason="UPSTREAM_FAILED"
        )
    return cls(got.message, reason=reason, metadata=got.metadata)
