"""svc_user's storage on SQL: tables (`tables`), a repository per aggregate,
and the unit of work that binds them (`unit`)."""

from svc_user.store.tables import idempotency_records, metadata
from svc_user.store.unit import units

__all__ = ["idempotency_records", "metadata", "units"]
