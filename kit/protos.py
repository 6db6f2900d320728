"""Conversions every servicer needs: timestamps, durations, enums, resource names."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2

from kit.errors import FieldViolation, InvalidArgument

E = TypeVar("E", bound=StrEnum)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    # Integer arithmetic on the aware datetime: exact, and several times
    # cheaper than Timestamp.FromDatetime on every field of every response.
    since = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000
    )


def datetime_of(message: Any, field: str) -> datetime | None:
    """The Timestamp field `field` of `message` as an aware datetime, or None if unset."""
    if not message.HasField(field):
        return None
    value: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return value


def timedelta_of(value: duration_pb2.Duration) -> timedelta:
    return timedelta(microseconds=value.ToMicroseconds())


def enum_to_proto(member: E | None, prefix: str, wrapper: Any) -> Any:
    """Domain enum member -> proto enum number (`<PREFIX>_<NAME>`; None -> 0)."""
    if member is None:
        return 0
    return _enum_number(member, prefix, wrapper)


@functools.cache
def _enum_number(member: StrEnum, prefix: str, wrapper: Any) -> int:
    return int(wrapper.Value(f"{prefix}_{member.name}"))


def enum_of(
    number: int, prefix: str, wrapper: Any, enum: type[E], field: str, *, required: bool = False
) -> E | None:
    """Proto enum number -> domain member; 0 -> None (or a violation when required)."""
    if number == 0:
        if required:
            raise InvalidArgument([FieldViolation(field, "required")])
        return None
    try:
        name = wrapper.Name(number).removeprefix(f"{prefix}_")
        return enum[name]
    except (ValueError, KeyError):
        raise InvalidArgument([FieldViolation(field, "not a known value")]) from None


def resource_id(name: str, collection: str, field: str) -> str:
    """The id in "<collection>/<id>"; anything else names the field as bad."""
    head, _, tail = name.partition("/")
    if head != collection or not tail or "/" in tail:
        raise InvalidArgument([FieldViolation(field, f"must look like {collection}/{{id}}")])
    return tail


def update_paths(mask_paths: list[str], allowed: set[str]) -> set[str]:
    """The mask's paths, refused unless every one may be updated (AIP-134)."""
    if not mask_paths:
        raise InvalidArgument([FieldViolation("update_mask", "list the fields to update")])
    unknown = [p for p in mask_paths if p not in allowed]
    if unknown:
        raise InvalidArgument(
            [
                FieldViolation(
                    "update_mask.paths", f"{p!r} cannot be updated; updatable: {', '.join(sorted(allowed))}"
                )
                for p in unknown
            ]
        )
    return set(mask_paths)
