"""Errors at the edge: one JSON shape for every refusal.

A gRPC status becomes the HTTP status of grpc-gateway's table and a body that
is the JSON form of `google.rpc.Status` with its details (each an `Any` with
its `@type`), the same shape Envoy's transcoder gives with
`convert_grpc_status`, so a client can move between the two edges. The
gateway's own refusals (no route, bad JSON, too large...) take the same shape,
with an `ErrorInfo` reason of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import msgspec
from google.protobuf import any_pb2, json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2

from kit import errors as kit_errors
from kit import status as kit_status

DOMAIN = "stockmesh.io"

# grpc-gateway's HTTPStatusFromCode (runtime/errors.go).
HTTP_STATUS: dict[int, int] = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}

_encode = msgspec.json.Encoder().encode


def http_status(code: int) -> int:
    return HTTP_STATUS.get(code, 500)


class EdgeError(Exception):
    """A refusal decided at the edge, before or instead of a gRPC call."""

    def __init__(
        self,
        http_status: int,
        code: int,
        message: str,
        reason: str,
        *,
        violations: Sequence[tuple[str, str]] = (),
        headers: Sequence[tuple[str, str]] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status = status(code, message, reason, violations=violations, metadata=metadata)
        self.headers = list(headers)


def status(
    code: int,
    message: str,
    reason: str,
    *,
    violations: Sequence[tuple[str, str]] = (),
    metadata: dict[str, str] | None = None,
) -> status_pb2.Status:
    details = [_pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata or {}))]
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
            ]
        )
        details.append(_pack(bad))
    return status_pb2.Status(code=code, message=message, details=details)


def bad_request(message: str, reason: str, field: str | None = None) -> EdgeError:
    violations = [(field, message)] if field is not None else []
    return EdgeError(400, code_pb2.INVALID_ARGUMENT, message, reason, violations=violations)


def method_not_allowed(method: str, allowed: Sequence[str]) -> EdgeError:
    """405 with `Allow`: the path exists, for other methods."""
    return EdgeError(
        405,
        code_pb2.UNIMPLEMENTED,
        f"{method} is not allowed here; use {', '.join(allowed)}",
        "METHOD_NOT_ALLOWED",
        headers=[("Allow", ", ".join(allowed))],
    )


def of_rpc_error(error: grpc.RpcError) -> tuple[int, status_pb2.Status]:
    """The HTTP status and `google.rpc.Status` a failed call is answered with:
    the details the service sent, or a bare status when it sent none."""
    code: grpc.StatusCode = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    number = code.value[0]
    trailing: Any = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    blob = next((v for k, v in (trailing or ()) if k == "grpc-status-details-bin"), None)
    if isinstance(blob, bytes):
        try:
            sent = status_pb2.Status.FromString(blob)
        except Exception:  # noqa: BLE001 - a garbled trailer must not hide the status itself
            sent = None
        if sent is not None and sent.code == number:
            return http_status(number), sent
    # A status with no details (a deadline that passed on our side, a
    # service unreachable) still gets a reason, as every error here does.
    message = (error.details() if hasattr(error, "details") else "") or code.name.lower()
    return http_status(number), status(number, message, code.name)


def refused_by_service(error: grpc.RpcError) -> EdgeError:
    """A service's refusal as the edge answers it: its HTTP status, its own
    status and details, and a `Retry-After` from its `RetryInfo`."""
    code, sent = of_rpc_error(error)
    retry = retry_after(sent)
    refusal = EdgeError(
        code, sent.code, sent.message, "", headers=[("Retry-After", str(retry))] if retry else []
    )
    refusal.status = sent  # the service's details as sent, not an edge reason
    return refusal


def reason_of(sent: status_pb2.Status) -> str:
    """The `ErrorInfo` reason of a status, for the access log."""
    for detail in sent.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


def body(sent: status_pb2.Status) -> bytes:
    """The JSON form of a status; details of unknown types keep their raw bytes."""
    try:
        as_dict = json_format.MessageToDict(sent, preserving_proto_field_name=False)
    except (json_format.Error, TypeError):
        # An Any whose type this process cannot resolve: keep what can be said.
        as_dict = {
            "code": sent.code,
            "message": sent.message,
            "details": [{"@type": d.type_url, "value": _b64(d.value)} for d in sent.details],
        }
    as_dict.setdefault("code", sent.code)
    as_dict.setdefault("message", sent.message)
    as_dict.setdefault("details", [])
    return _encode(as_dict)


def retry_after(sent: status_pb2.Status) -> int | None:
    """Whole seconds from a `RetryInfo` detail, for a `Retry-After` header."""
    for detail in sent.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            seconds = int(info.retry_delay.seconds) + (1 if info.retry_delay.nanos else 0)
            return max(1, seconds)
    return None


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def of_service_error(error: kit_errors.ServiceError) -> EdgeError:
    """A refusal the edge decided with the shared runtime (an invalid token,
    JWKS unreachable), in the shape the service would have sent."""
    code = kit_status.code_of(error).value[0]
    return EdgeError(http_status(code), code, error.message, error.reason, metadata=error.metadata)
