"""svc_procure's store on SQLAlchemy Core (SQLite and PostgreSQL): the tables,
one module of SQL repositories per aggregate, and the unit of work binding them.

A purchase order is one aggregate: its lines live in the order's row as JSON,
so a receipt changes the order in one conditional UPDATE (on the version),
which is the order's lock. Receipts are their own rows: the booking loop
reads and marks them without touching the order.
"""

from svc_procure.store.tables import idempotency_records, metadata

__all__ = ["idempotency_records", "metadata"]
