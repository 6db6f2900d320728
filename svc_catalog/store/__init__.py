"""svc_catalog's storage on SQL (SQLAlchemy Core; SQLite and PostgreSQL):
the tables (`tables`), one repository module per aggregate, and the unit of
work that binds them (`unit`). `metadata` is here for the runtime, which
finds every service's tables as `<package>.store.metadata`."""

from svc_catalog.store.tables import metadata

__all__ = ["metadata"]
