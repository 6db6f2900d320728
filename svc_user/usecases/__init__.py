"""svc_user's use cases, one module per aggregate: tenants, users, sessions
(login, refresh, logout) and signing keys. Each takes `Units[UserUnit]`;
every write runs in one unit of work, every mutating call once per request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Done:
    """The result of a use case whose answer is only that it happened."""

    at: datetime
