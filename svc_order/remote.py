"""A refusal received from another service, raised again as the kit error
it stands for, details included, so the caller sees the neighbour's reason."""

from __future__ import annotations

import grpc

from kit import errors, status

_NAMED: dict[grpc.StatusCode, type[errors.ServiceError]] = {
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: errors.Unavailable,
}


def translated(error: grpc.RpcError) -> errors.ServiceError:
    got = status.details_of(error)
    if got.code == grpc.StatusCode.FAILED_PRECONDITION:
        return errors.FailedPrecondition(
            got.message,
            [
                errors.PreconditionViolation(v.type, v.subject, v.description)
                for v in got.precondition_violations
            ],
            reason=got.reason or None,
            metadata=got.metadata,
        )
    if got.code == grpc.StatusCode.INVALID_ARGUMENT:
        return errors.InvalidArgument(
            [errors.FieldViolation(f, d) for f, d in got.field_violations.items()],
            message=got.message,
            reason=got.reason or None,
        )
    if got.code == grpc.StatusCode.NOT_FOUND:
        return errors.NotFound(got.metadata.get("resource_type", "resource"), got.metadata.get("name", ""))
    cls = _NAMED.get(got.code)
    if cls is None:
        raise error
    return cls(got.message, reason=got.reason or None)
