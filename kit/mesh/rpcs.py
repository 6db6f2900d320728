"""The RPCs each service serves, read from the descriptor set `make gen`
writes (`gen/stockmesh/descriptors.binpb`): what a policy's paths may name,
which calls are streams, and which a proxy may safely retry.

Read from the raw FileDescriptorProtos, without a descriptor pool, so a set
need not carry the files it imports (a test can build a small one)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

DESCRIPTORS = "descriptors.binpb"
# Every service's contracts live in this package (its gRPC services).
PACKAGE = "stockmesh.{name}.v1"

# gRPC's own services, which every server offers beside its contracts
# (kit.server registers them): a policy may name them for any workload.
HEALTH = "grpc.health.v1.Health"
INFRASTRUCTURE: Mapping[str, frozenset[str]] = {
    HEALTH: frozenset({"Check", "Watch", "List"}),
    "grpc.reflection.v1.ServerReflection": frozenset({"ServerReflectionInfo"}),
    "grpc.reflection.v1alpha.ServerReflection": frozenset({"ServerReflectionInfo"}),
}

# Until the protos declare `idempotency_level`, a method named so reads only.
# Every RPC of ours without a request_id has one of these names, and each
# reads only, by its proto comment: Get, List and BatchGet are AIP-131, 132
# and 231's standard reads, Lookup finds one variant by a key; Summarize and
# Watch report what is stored; ProposeReplenishment and ReconcileStockLevels
# each say "Changes nothing". A new RPC so named that writes must carry a
# request_id (or declare its idempotency_level).
READ_PREFIXES = ("Get", "List", "BatchGet", "Lookup", "Summarize", "Watch", "Propose", "Reconcile")
# A write that carries this field is answered from its first outcome when
# repeated (kit.idempotency), so a retry cannot apply it twice.
REQUEST_ID = "request_id"
_SAFE_LEVELS = frozenset(
    {descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS, descriptor_pb2.MethodOptions.IDEMPOTENT}
)


class DescriptorError(ValueError):
    """The descriptor set is missing or unreadable."""


@dataclass(frozen=True)
class Rpc:
    service: str  # the gRPC service's full name, e.g. stockmesh.stock.v1.StockService
    method: str
    streaming: bool  # either side streams: a proxy cannot replay it midway
    idempotent: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.method}"

    @property
    def service_name(self) -> str:
        """The gRPC service without its package, e.g. StockService."""
        return self.service.rpartition(".")[2]


class Catalogue:
    """The RPCs of every registered service, by service name ("stock")."""

    def __init__(self, by_service: Mapping[str, tuple[Rpc, ...]]) -> None:
        self._by_service = dict(by_service)

    def of(self, name: str) -> tuple[Rpc, ...]:
        return self._by_service.get(name, ())

    def owner(self, grpc_service: str) -> str | None:
        """The registered service whose contracts hold `grpc_service`."""
        for name, rpcs in self._by_service.items():
            if any(r.service == grpc_service for r in rpcs):
                return name
        return None


def default_path() -> Path:
    """The descriptor set beside the generated stubs (as the gateway reads it)."""
    return Path(str(resources.files("stockmesh").joinpath(DESCRIPTORS)))


def load(path: Path | None, names: Sequence[str]) -> Catalogue:
    path = path or default_path()
    try:
        found = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    except OSError as exc:
        raise DescriptorError(f"no descriptor set at {path} (run `make gen`): {exc.strerror}") from None
    except DecodeError as exc:
        raise DescriptorError(f"{path} is not a FileDescriptorSet: {exc}") from None
    return catalogue(found, names)


def catalogue(found: descriptor_pb2.FileDescriptorSet, names: Iterable[str]) -> Catalogue:
    messages = dict(_messages(found.file))
    by_service: dict[str, list[Rpc]] = {}
    packages = {PACKAGE.format(name=name): name for name in names}
    for proto in found.file:
        name = packages.get(proto.package)
        if name is None:
            continue
        for service in proto.service:
            full = f"{proto.package}.{service.name}"
            by_service.setdefault(name, []).extend(
                Rpc(
                    full,
                    method.name,
                    method.client_streaming or method.server_streaming,
                    _idempotent(method, messages.get(method.input_type.lstrip("."))),
                )
                for method in service.method
            )
    return Catalogue({name: tuple(rpcs) for name, rpcs in by_service.items()})


def _idempotent(
    method: descriptor_pb2.MethodDescriptorProto, request: descriptor_pb2.DescriptorProto | None
) -> bool:
    if request is not None and any(f.name == REQUEST_ID for f in request.field):
        return True
    if method.options.idempotency_level in _SAFE_LEVELS:
        return True
    return method.name.startswith(READ_PREFIXES)


def _messages(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    def nested(
        prefix: str, message: descriptor_pb2.DescriptorProto
    ) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
        full = f"{prefix}{message.name}"
        yield full, message
        for inner in message.nested_type:
            yield from nested(f"{full}.", inner)

    for proto in files:
        for message in proto.message_type:
            yield from nested(f"{proto.package}." if proto.package else "", message)
