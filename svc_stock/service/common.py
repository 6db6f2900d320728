"""What every servicer of svc_stock shares: the rules of who may call what,
the provenance of a call, and the proto of a stock change's outcome."""

from __future__ import annotations

from kit import auth, context
from kit.identity import Role
from stockmesh.stock.v1 import stock_pb2 as pb
from svc_stock import convert
from svc_stock.domain import Outcome, Provenance, ReservationOutcome

WAREHOUSE = "stockmesh.stock.v1.WarehouseService"
STOCK = "stockmesh.stock.v1.StockService"
RESERVATION = "stockmesh.stock.v1.ReservationService"

MANAGERS = auth.roles(Role.MANAGER)
FLOOR = auth.roles(Role.MANAGER, Role.CLERK)

RULES: dict[str, auth.Rule] = {
    f"/{WAREHOUSE}/CreateWarehouse": MANAGERS,
    f"/{WAREHOUSE}/GetWarehouse": auth.ANY_USER,
    f"/{WAREHOUSE}/ListWarehouses": auth.ANY_USER,
    f"/{WAREHOUSE}/UpdateWarehouse": MANAGERS,
    f"/{WAREHOUSE}/ArchiveWarehouse": MANAGERS,
    f"/{WAREHOUSE}/UnarchiveWarehouse": MANAGERS,
    f"/{STOCK}/GetStockLevel": auth.ANY_USER,
    f"/{STOCK}/ListStockLevels": auth.ANY_USER,
    f"/{STOCK}/ListLowStock": auth.ANY_USER,
    f"/{STOCK}/SetReorderPolicy": auth.roles(Role.MANAGER, Role.BUYER),
    # svc_procure retries bookings of purchase-order receipts in the background.
    f"/{STOCK}/ReceiveStock": auth.roles(Role.MANAGER, Role.CLERK, services=frozenset({"svc-procure"})),
    f"/{STOCK}/AdjustStock": FLOOR,  # clerks within a limit (in the use case)
    f"/{STOCK}/RecordCycleCount": FLOOR,
    f"/{STOCK}/TransferStock": FLOOR,
    # svc_order retries bookings of order returns in the background.
    f"/{STOCK}/ReturnStock": auth.roles(Role.MANAGER, Role.CLERK, services=frozenset({"svc-order"})),
    f"/{STOCK}/GetMovement": auth.ANY_USER,
    f"/{STOCK}/ListMovements": auth.ANY_USER,
    f"/{STOCK}/SummarizeDemand": auth.ANY_USER,
    f"/{STOCK}/ReconcileStockLevels": auth.roles(Role.ADMIN),
    f"/{STOCK}/WatchStockLevels": auth.ANY_USER,
    f"/{RESERVATION}/CreateReservation": FLOOR,
    f"/{RESERVATION}/GetReservation": auth.ANY_USER,
    f"/{RESERVATION}/ListReservations": auth.ANY_USER,
    f"/{RESERVATION}/ExtendReservation": FLOOR,
    f"/{RESERVATION}/ReleaseReservation": FLOOR,
    f"/{RESERVATION}/CommitReservation": FLOOR,
}


def origin(request_id: str) -> Provenance:
    """Who and what is behind this call, for the movements it writes."""
    caller = auth.current.get()
    user = caller.principal.user_id if caller.principal else ""
    return Provenance(user, caller.peer or "", request_id, context.trace_id())


def movements(outcome: Outcome | ReservationOutcome) -> list[pb.Movement]:
    return [convert.movement(m) for m in outcome.movements]


def levels(outcome: Outcome | ReservationOutcome) -> list[pb.StockLevel]:
    return [convert.level(v) for v in outcome.levels]
