"""The ReservationService servicer."""

from __future__ import annotations

from kit import auth, protos
from kit.errors import FieldViolation, InvalidArgument
from kit.rpc import Context
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock import commands, convert
from svc_stock.service.common import levels, movements, origin
from svc_stock.usecases.granting import Granting
from svc_stock.usecases.reservations import Reservations


class ReservationServicer(stock_pb2_grpc.ReservationServiceServicer):
    def __init__(self, granting: Granting, reservations: Reservations) -> None:
        self.granting = granting
        self.reservations = reservations

    async def CreateReservation(
        self, request: pb.CreateReservationRequest, context: Context
    ) -> pb.CreateReservationResponse:
        r = request.reservation
        cmd = commands.Reserve(r.reference, convert.reservation_lines(list(r.lines)), convert.expiry(r))
        outcome = await self.granting.reserve(auth.principal(), origin(request.request_id), cmd)
        return pb.CreateReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=movements(outcome),
            stock_levels=levels(outcome),
        )

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: Context
    ) -> pb.GetReservationResponse:
        found = await self.reservations.get(
            auth.principal(), protos.resource_id(request.name, "reservations", "name")
        )
        return pb.GetReservationResponse(reservation=convert.reservation(found))

    async def ListReservations(
        self, request: pb.ListReservationsRequest, context: Context
    ) -> pb.ListReservationsResponse:
        query = commands.ListReservations(
            request.page_size,
            request.page_token,
            convert.reservation_state(request.state),
            request.reference,
            convert.warehouse_id(request.warehouse, "warehouse") if request.warehouse else None,
            request.sku,
        )
        page = await self.reservations.list_reservations(auth.principal(), query)
        return pb.ListReservationsResponse(
            reservations=[convert.reservation(r) for r in page.items],
            next_page_token=page.next_page_token,
        )

    async def ExtendReservation(
        self, request: pb.ExtendReservationRequest, context: Context
    ) -> pb.ExtendReservationResponse:
        if request.WhichOneof("expiration") is None:
            raise InvalidArgument([FieldViolation("expire_time", "an expire_time or a ttl is required")])
        name = protos.resource_id(request.name, "reservations", "name")
        cmd = commands.Extend(name, convert.expiry(request), request.etag)
        extended = await self.reservations.extend(auth.principal(), request.request_id, cmd)
        return pb.ExtendReservationResponse(reservation=convert.reservation(extended))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        cmd = commands.Release(protos.resource_id(request.name, "reservations", "name"), request.etag)
        outcome = await self.reservations.release(auth.principal(), origin(request.request_id), cmd)
        return pb.ReleaseReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=movements(outcome),
            stock_levels=levels(outcome),
        )

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, context: Context
    ) -> pb.CommitReservationResponse:
        cmd = commands.Commit(
            protos.resource_id(request.name, "reservations", "name"),
            protos.datetime_of(request, "ship_time"),
            request.etag,
        )
        outcome = await self.reservations.commit(auth.principal(), origin(request.request_id), cmd)
        return pb.CommitReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=movements(outcome),
            stock_levels=levels(outcome),
        )
