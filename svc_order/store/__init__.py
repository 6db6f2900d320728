"""svc_order's store: tables, one module of SQL repositories per aggregate,
and the unit of work that binds them. The package offers what the rest of
the service reads of it: `metadata` (migrations, kit.services) and `units`
(app.py)."""

from svc_order.store.tables import metadata
from svc_order.store.unit import units

__all__ = ["metadata", "units"]
