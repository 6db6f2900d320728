"""svc_stock's storage on SQL (SQLAlchemy Core on SQLite and PostgreSQL):
`tables`, one repository module per aggregate, the unit of work (`unit`),
reservation batches (`batches`, and `pg_batches` for PostgreSQL alone), and
the live stream's announcements (`feed`)."""

from svc_stock.store.tables import idempotency_records, metadata

__all__ = ["idempotency_records", "metadata"]
