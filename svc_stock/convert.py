"""Translation between svc_stock's protos and its domain values."""

from __future__ import annotations

from kit import protos
from kit.errors import FieldViolation, InvalidArgument, Violations
from kit.protos import enum_of, enum_to_proto, timestamp
from stockmesh.stock.v1 import stock_pb2 as pb
from svc_stock import commands, domain
from svc_stock.domain import (
    AdjustmentReason,
    Level,
    Movement,
    MovementType,
    Reservation,
    ReservationState,
    Warehouse,
)
from svc_stock.usecases.levels import level_etag
from svc_stock.usecases.reservations import reservation_etag, reservation_name
from svc_stock.usecases.warehouses import warehouse_etag, warehouse_name


def warehouse_id(name: str, field: str) -> str:
    return protos.resource_id(name, "warehouses", field)


def parent(name: str, field: str = "parent") -> str | None:
    """ "warehouses/-" (every warehouse) -> None, else the warehouse id."""
    return None if name == "warehouses/-" else warehouse_id(name, field)


def level_key(name: str, field: str = "name") -> tuple[str, str]:
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "warehouses"
        or parts[2] != "stockLevels"
        or not parts[1]
        or not parts[3]
    ):
        raise InvalidArgument([FieldViolation(field, "must look like warehouses/{id}/stockLevels/{sku}")])
    return parts[1], parts[3]


def address(value: pb.Address) -> domain.Address:
    return domain.Address(
        tuple(value.address_lines),
        value.locality,
        value.administrative_area,
        value.postal_code,
        value.region_code,
    )


def warehouse(value: Warehouse) -> pb.Warehouse:
    return pb.Warehouse(
        name=warehouse_name(value.id),
        code=value.code,
        display_name=value.display_name,
        address=pb.Address(
            address_lines=list(value.address.lines),
            locality=value.address.locality,
            administrative_area=value.address.administrative_area,
            postal_code=value.address.postal_code,
            region_code=value.address.region_code,
        ),
        status=enum_to_proto(value.status, "WAREHOUSE_STATUS", pb.WarehouseStatus),
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        archive_time=timestamp(value.archived_at),
        etag=warehouse_etag(value),
    )


def level(value: Level) -> pb.StockLevel:
    return pb.StockLevel(
        name=domain.level_name(value.warehouse_id, value.sku),
        sku=value.sku,
        warehouse=warehouse_name(value.warehouse_id),
        on_hand=value.on_hand,
        reserved=value.reserved,
        available=value.available,
        reorder_point=value.reorder_point,
        reorder_quantity=value.reorder_quantity,
        low_stock=value.low_stock,
        last_movement_sequence=value.last_movement_sequence,
        last_count_time=timestamp(value.last_count_at),
        update_time=timestamp(value.updated_at),
        etag=level_etag(value) if value.version else "",
    )


def movement(value: Movement) -> pb.Movement:
    return pb.Movement(
        name=f"movements/{value.id}",
        sequence=value.sequence,
        type=enum_to_proto(value.type, "MOVEMENT_TYPE", pb.MovementType),
        sku=value.sku,
        warehouse=warehouse_name(value.warehouse_id),
        quantity_delta=value.quantity_delta,
        reserved_delta=value.reserved_delta,
        on_hand_after=value.on_hand_after,
        reserved_after=value.reserved_after,
        reason=enum_to_proto(value.reason, "ADJUSTMENT_REASON", pb.AdjustmentReason),
        note=value.note,
        reference=value.reference,
        reservation=reservation_name(value.reservation_id) if value.reservation_id else "",
        counterpart_warehouse=warehouse_name(value.counterpart_warehouse_id)
        if value.counterpart_warehouse_id
        else "",
        user=f"users/{value.user_id}" if value.user_id else "",
        caller=value.caller,
        request_id=value.request_id,
        trace_id=value.trace_id,
        effective_time=timestamp(value.effective_at),
        create_time=timestamp(value.created_at),
    )


def reservation(value: Reservation) -> pb.Reservation:
    return pb.Reservation(
        name=reservation_name(value.id),
        reference=value.reference,
        lines=[
            pb.ReservationLine(
                sku=line.sku, warehouse=warehouse_name(line.warehouse_id), quantity=line.quantity
            )
            for line in value.lines
        ],
        state=enum_to_proto(value.state, "RESERVATION_STATE", pb.ReservationState),
        expire_time=timestamp(value.expire_at),
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        end_time=timestamp(value.ended_at),
        etag=reservation_etag(value),
    )


def stock_lines(values: list[pb.StockLine]) -> tuple[commands.StockLine, ...]:
    return tuple(commands.StockLine(line.sku, line.quantity) for line in values)


def adjustment_lines(values: list[pb.AdjustmentLine]) -> tuple[commands.AdjustmentLine, ...]:
    return tuple(
        commands.AdjustmentLine(
            line.sku,
            line.quantity_delta,
            enum_of(
                line.reason, "ADJUSTMENT_REASON", pb.AdjustmentReason, AdjustmentReason, f"lines[{i}].reason"
            ),
            line.note,
        )
        for i, line in enumerate(values)
    )


def reservation_lines(values: list[pb.ReservationLine]) -> tuple[domain.Line, ...]:
    violations = Violations()
    out = []
    for i, line in enumerate(values):
        try:
            out.append(
                domain.Line(
                    warehouse_id(line.warehouse, f"reservation.lines[{i}].warehouse"), line.sku, line.quantity
                )
            )
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
    violations.raise_if_any()
    return tuple(out)


def expiry(message: pb.Reservation | pb.ExtendReservationRequest) -> commands.Expiry:
    which = message.WhichOneof("expiration")
    if which == "expire_time":
        return commands.Expiry(at=protos.datetime_of(message, "expire_time"))
    if which == "ttl":
        return commands.Expiry(ttl=protos.timedelta_of(message.ttl))
    return commands.Expiry()


def movement_types(values: list[int]) -> tuple[MovementType, ...]:
    found = [
        enum_of(v, "MOVEMENT_TYPE", pb.MovementType, MovementType, f"types[{i}]")
        for i, v in enumerate(values)
    ]
    return tuple(t for t in found if t is not None)


def reservation_state(value: int) -> ReservationState | None:
    return enum_of(value, "RESERVATION_STATE", pb.ReservationState, ReservationState, "state")
