"""Istio's field forms the local runtime reads: durations ("5s", "250ms",
"1m") and string matches (exact, prefix, suffix, regex; and the `*` forms of
AuthorizationPolicy values)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.mesh.files import PolicyError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)$")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration(value: Any, where: str) -> float:
    """Seconds of a protobuf Duration as Istio writes it."""
    found = _DURATION.match(str(value).strip())
    if found is None:
        raise PolicyError(f"{where}: {value!r} is not a duration such as 5s or 250ms")
    return float(found.group(1)) * _UNIT[found.group(2)]


def wildcard(pattern: str, value: str) -> bool:
    """AuthorizationPolicy's value match: exact, `prefix*`, `*suffix`, or `*`
    (any non-empty value)."""
    if pattern == "*":
        return bool(value)
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


@dataclass(frozen=True)
class StringMatch:
    """A VirtualService StringMatch: exactly one of exact, prefix, regex."""

    how: str
    value: str

    def __call__(self, candidate: str | None) -> bool:
        if candidate is None:
            return False
        if self.how == "exact":
            return candidate == self.value
        if self.how == "prefix":
            return candidate.startswith(self.value)
        return re.fullmatch(self.value, candidate) is not None


def string_match(body: Any, where: str) -> StringMatch:
    if not isinstance(body, Mapping) or len(body) != 1:
        raise PolicyError(f"{where}: a string match names exactly one of exact, prefix, regex")
    ((how, value),) = body.items()
    if how not in ("exact", "prefix", "regex"):
        raise PolicyError(f"{where}: {how!r} is not a string match the local runtime applies")
    if how == "regex":
        try:
            re.compile(str(value))
        except re.error as exc:
            raise PolicyError(f"{where}: bad regex {value!r}: {exc}") from None
    return StringMatch(how, str(value))


def only(body: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse fields the local runtime would silently ignore: a policy it
    cannot enforce as written must not start."""
    extra = sorted(set(body) - allowed)
    if extra:
        raise PolicyError(f"{where}: the local runtime does not enforce {', '.join(extra)}")


def strings(body: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}.{key}: must be a list of strings")
    return tuple(value)
