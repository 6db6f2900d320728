"""An in-process gRPC server on 127.0.0.1 and kit's channels to reach it in
plaintext, for tests of clients against a real server (no fakes of gRPC)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from grpc import aio

from kit.clients import Channels
from kit.mesh.files import DEFAULT_DIR
from kit.settings import TlsMode


@dataclass(frozen=True)
class Loopback:
    """`kit.clients.ChannelSettings` for every peer on 127.0.0.1:`port`."""

    port: int
    account: str = "svc-test"
    spiffe_id: str = "spiffe://stockmesh.local/ns/stockmesh/sa/svc-test"
    tls_mode: TlsMode = "mesh"
    tls_dir: Path = Path()
    namespace: str = "stockmesh"
    mesh_dir: Path = DEFAULT_DIR

    def peer(self, service: str) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def serving(register: Callable[[aio.Server], None]) -> AsyncIterator[Channels]:
    """A started server with what `register` adds, and channels to it for every peer."""
    server = aio.server()
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channels = Channels(Loopback(port))
    try:
        yield channels
    finally:
        await channels.close()
        await server.stop(None)
