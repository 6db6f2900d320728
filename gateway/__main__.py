"""`python -m gateway`: serve the REST/JSON edge until SIGTERM or Ctrl-C.

uvicorn with uvloop and httptools (see docs/gateway.md for the measured
choice); its own access log is off, the gateway writes one JSON line per
request with the request and trace ids.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys

import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.routes import RouteError
from gateway.settings import GatewaySettings
from kit import logs, metrics, tracing
from kit.server import exit_now
from kit.settings import SettingsError

log = logging.getLogger("gateway")


def main() -> int:
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    logs.configure("gateway", settings.log_level, settings.log_format)
    tracing.configure_for("gateway", settings.traces_file, settings.otlp_endpoint)
    try:
        app = create_app(settings)
    except RouteError as exc:
        log.error("cannot serve these contracts: %s", exc)
        return 2
    host, _, port = settings.listen.rpartition(":")
    if settings.metrics_listen:
        metrics.serve(settings.metrics_listen)
    log.info(
        "serving",
        extra={"listen": settings.listen, "metrics": settings.metrics_listen, "tls": settings.tls_mode},
    )
    config = uvicorn.Config(
        app,
        host=host or "127.0.0.1",
        port=int(port),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=int(settings.grace_seconds),
    )
    # uvicorn drains on SIGINT/SIGTERM, then raises the signal again for the
    # handler that was there before it: these make that a quiet exit 0
    # (Ctrl-C on `stockmesh up` reaches every process of the group).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: None)
    _Server(config, app).run()
    log.info("stopped")
    return 0


class _Server(uvicorn.Server):
    """uvicorn, ending the open streams as soon as shutdown starts: uvicorn
    would otherwise wait for them (they never end on their own) for the
    whole graceful-shutdown timeout."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        gateway = getattr(self.app.state, "gateway", None)
        if gateway is not None and (ended := gateway.open_streams.end_all()):
            log.info("ended open streams", extra={"streams": ended})
        await super().shutdown(sockets)


if __name__ == "__main__":
    exit_now(main())
