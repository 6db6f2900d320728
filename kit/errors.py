"""The errors a use case may raise, each standing for one gRPC status.

Pure Python, so domain code can raise them without importing gRPC. The mapping
to status codes and `google.rpc` details lives in `kit.status`, in one table.
Every error carries an UPPER_SNAKE `reason` that clients can switch on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: `field` is a dotted path, e.g. `user.email`."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One unmet precondition: `type` is a category (e.g. `STOCK`), `subject` names what."""

    type: str
    subject: str
    description: str


class ServiceError(Exception):
    """Base of every error that maps to a non-OK status with a reason."""

    reason: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(ServiceError):
    """The request itself is wrong, whatever the state: names each bad field."""

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        violations: Sequence[FieldViolation],
        *,
        message: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.violations = tuple(violations)
        text = message or "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(text or "invalid argument", reason=reason)


class NotFound(ServiceError):
    reason = "NOT_FOUND"

    def __init__(self, resource_type: str, name: str) -> None:
        super().__init__(
            f"{resource_type} {name!r} not found",
            metadata={"resource_type": resource_type, "name": name},
        )
        self.resource_type = resource_type
        self.name = name


class AlreadyExists(ServiceError):
    reason = "ALREADY_EXISTS"

    def __init__(self, resource_type: str, key: str, *, field: str | None = None) -> None:
        super().__init__(
            f"{resource_type} {key!r} already exists",
            metadata={"resource_type": resource_type, "key": key},
        )
        self.field = field


class FailedPrecondition(ServiceError):
    """The state of the system forbids the call; names each unmet condition."""

    reason = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        violations: Sequence[PreconditionViolation] = (),
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = tuple(violations)


class Aborted(ServiceError):
    """A concurrent change won: reread and retry (stale etag, serialization failure)."""

    reason = "ABORTED"


class EtagMismatch(Aborted):
    reason = "ETAG_MISMATCH"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} was changed since it was read; read it again and retry",
            metadata={"name": name},
        )


class Unauthenticated(ServiceError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    reason = "PERMISSION_DENIED"


class ResourceExhausted(ServiceError):
    reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self, message: str, *, retry_after_seconds: float | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after_seconds = retry_after_seconds


class OutOfRange(ServiceError):
    """A value past the end of what exists (a neighbour may answer so)."""

    reason = "OUT_OF_RANGE"


class Cancelled(ServiceError):
    """The call was cancelled (a neighbour may answer so)."""

    reason = "CANCELLED"


class Unavailable(ServiceError):
    """A dependency could not be reached; the call changed nothing and may be retried."""

    reason = "UNAVAILABLE"


@dataclass(frozen=True)
class Violations:
    """Collects field violations so a validator reports every bad field at once."""

    items: list[FieldViolation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, field_path: str, description: str, *, reason: str | None = None) -> None:
        """One bad field; `reason` when this kind of violation has a name of
        its own (UNKNOWN_SKU), which then names the whole refusal if it is
        the first such."""
        self.items.append(FieldViolation(field_path, description))
        if reason is not None:
            self.reasons.append(reason)

    def raise_if_any(self, *, reason: str | None = None) -> None:
        if self.items:
            raise InvalidArgument(self.items, reason=reason or next(iter(self.reasons), None))
