"""Calls from the edge to the services: mTLS with the gateway's own SPIFFE
identity (plaintext to the sidecar in the cluster), one shared channel per
service, the caller's bearer token forwarded, a deadline on every call."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.message import Message
from grpc import aio

from gateway import errors
from gateway.routes import Route
from gateway.settings import GatewaySettings
from kit.clients import Channels

# grpc-timeout's own form (the gRPC HTTP/2 protocol): up to 8 digits and a unit.
_TIMEOUT = re.compile(r"^(\d{1,8})([HMSmun])$")
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
# Requests up to the body limit must fit a gRPC message.
_MAX_MESSAGE = 16 * 1024 * 1024


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


class Upstream:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.channels = Channels(
            settings,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        self._callables: dict[str, Any] = {}

    def unary(self, route: Route) -> aio.UnaryUnaryMultiCallable[Any, Any]:
        return self._callable(route, "unary_unary")  # type: ignore[no-any-return]

    def stream(self, route: Route) -> aio.UnaryStreamMultiCallable[Any, Any]:
        return self._callable(route, "unary_stream")  # type: ignore[no-any-return]

    def _callable(self, route: Route, kind: str) -> Any:
        # One multi-callable per method, made on first use: the channel's own.
        found = self._callables.get(route.grpc_path)
        if found is None:
            found = self._callables[route.grpc_path] = getattr(self.channels.relay(route.service), kind)(
                route.grpc_path,
                request_serializer=_serialize,
                response_deserializer=route.response_class.FromString,
            )
        return found

    def timeout(self, header: str | None) -> float:
        """The call's deadline: the default, or a shorter one the client asks
        for in `grpc-timeout` (capped at the maximum)."""
        if not header:
            return self.settings.call_timeout_seconds
        found = _TIMEOUT.match(header.strip())
        if found is None:
            raise errors.bad_request(
                "grpc-timeout must be digits and a unit (H, M, S, m, u, n), e.g. 500m",
                "INVALID_TIMEOUT",
                "grpc-timeout",
            )
        asked = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
        return min(max(asked, 0.001), self.settings.max_timeout_seconds)

    async def close(self) -> None:
        await self.channels.close()
