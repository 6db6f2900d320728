"""The gateway's settings, read once from the environment at start-up.

The variables a service reads mean the same here (state directory, mTLS,
peers' addresses, Redis, logs, traces); the gateway's own are
`STOCKMESH_GATEWAY_*`, and `STOCKMESH_CONSOLE_DIR` for the operator
console's build. A peer is found as `STOCKMESH_<NAME>_ADDR` for the
contract package `stockmesh.<name>.v1`, so a new service needs no code here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from kit import services
from kit.mesh import files as mesh_files
from kit.settings import SettingsError, TlsMode, number, service_account, spiffe_id

ACCOUNT = "gateway"  # the certificate `stockmesh certs` issues for the edge
DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_METRICS = "127.0.0.1:9450"


def bundled_descriptors() -> Path:
    """The descriptor set `make gen` writes beside the generated stubs."""
    return Path(str(resources.files("stockmesh").joinpath("descriptors.binpb")))


def default_console_dir() -> Path:
    """Where `make console` writes the operator console: console/dist in the repository."""
    return Path(__file__).resolve().parents[1] / "console" / "dist"


@dataclass(frozen=True)
class GatewaySettings:
    listen: str = DEFAULT_LISTEN
    metrics_listen: str | None = DEFAULT_METRICS
    descriptors: Path = field(default_factory=bundled_descriptors)
    home: Path = Path(".stockmesh")
    tls_mode: TlsMode = "mtls"
    tls_dir: Path = Path(".stockmesh/tls")
    trust_domain: str = "stockmesh.local"
    namespace: str = "stockmesh"
    environ: Mapping[str, str] = field(default_factory=dict)
    mesh_dir: Path = mesh_files.DEFAULT_DIR  # the mesh's client policy for calls to the services
    call_timeout_seconds: float = 10.0  # the deadline of a call whose client asks none
    max_timeout_seconds: float = 60.0  # the longest deadline a client may ask for
    stream_max_seconds: float = 3600.0  # how long a server stream (SSE) may stay open
    max_body_bytes: int = 4 * 1024 * 1024  # gRPC's own default message limit
    cors_origins: tuple[str, ...] = ()
    subject_rate: float = 50.0  # requests per second per user
    subject_burst: int = 100
    address_rate: float = 100.0  # requests per second per client address
    address_burst: int = 200
    redis_url: str | None = None
    redis_prefix: str = ""
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    traces_file: Path | None = None
    otlp_endpoint: str | None = None
    token_leeway_seconds: float = 30.0
    grace_seconds: float = 10.0
    console_dir: Path = field(default_factory=default_console_dir)  # the built console, served at /console

    @property
    def account(self) -> str:
        return ACCOUNT

    @property
    def spiffe_id(self) -> str:
        return spiffe_id(self.trust_domain, self.namespace, ACCOUNT)

    def peer(self, service: str) -> str:
        """Where the service of package `stockmesh.<service>.v1` listens."""
        address = self.environ.get(f"STOCKMESH_{service.upper()}_ADDR")
        if address:
            return address
        if service in services.available():  # one machine: the registered service's default port
            return f"127.0.0.1:{services.ports(service)[0]}"
        raise SettingsError(f"no address for service {service!r}: set STOCKMESH_{service.upper()}_ADDR")

    @staticmethod
    def server_name(service: str) -> str:
        """The name in the service's certificate (not its loopback address)."""
        return service_account(service)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("STOCKMESH_HOME", ".stockmesh")).resolve()
        tls_mode = env.get("STOCKMESH_TLS_MODE", "mtls")
        if tls_mode not in ("mtls", "mesh"):
            raise SettingsError(f"STOCKMESH_TLS_MODE must be mtls or mesh, not {tls_mode!r}")
        log_format = env.get("STOCKMESH_LOG_FORMAT", "json")
        if log_format not in ("json", "text"):
            raise SettingsError(f"STOCKMESH_LOG_FORMAT must be json or text, not {log_format!r}")
        descriptors = env.get("STOCKMESH_GATEWAY_DESCRIPTORS")
        traces = env.get("STOCKMESH_TRACES_FILE")
        origins = env.get("STOCKMESH_GATEWAY_CORS_ORIGINS", "")
        console = env.get("STOCKMESH_CONSOLE_DIR")
        return cls(
            listen=env.get("STOCKMESH_GATEWAY_LISTEN", DEFAULT_LISTEN),
            metrics_listen=env.get("STOCKMESH_GATEWAY_METRICS_LISTEN", DEFAULT_METRICS) or None,
            descriptors=Path(descriptors) if descriptors else bundled_descriptors(),
            home=home,
            tls_mode=tls_mode,  # type: ignore[arg-type]
            tls_dir=Path(env.get("STOCKMESH_TLS_DIR", str(home / "tls"))).resolve(),
            trust_domain=env.get("STOCKMESH_TRUST_DOMAIN", "stockmesh.local"),
            namespace=env.get("STOCKMESH_NAMESPACE", "stockmesh"),
            environ={k: v for k, v in env.items() if k.startswith("STOCKMESH_") and k.endswith("_ADDR")},
            mesh_dir=mesh_files.mesh_dir(env),
            call_timeout_seconds=number(env, "STOCKMESH_GATEWAY_TIMEOUT_SECONDS", 10.0),
            max_timeout_seconds=number(env, "STOCKMESH_GATEWAY_MAX_TIMEOUT_SECONDS", 60.0),
            stream_max_seconds=number(env, "STOCKMESH_GATEWAY_STREAM_MAX_SECONDS", 3600.0),
            max_body_bytes=int(number(env, "STOCKMESH_GATEWAY_MAX_BODY_BYTES", 4 * 1024 * 1024)),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            subject_rate=number(env, "STOCKMESH_GATEWAY_RATE_PER_USER", 50.0),
            subject_burst=int(number(env, "STOCKMESH_GATEWAY_BURST_PER_USER", 100)),
            address_rate=number(env, "STOCKMESH_GATEWAY_RATE_PER_ADDRESS", 100.0),
            address_burst=int(number(env, "STOCKMESH_GATEWAY_BURST_PER_ADDRESS", 200)),
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=env.get("STOCKMESH_GATEWAY_REDIS_PREFIX", ""),
            log_level=env.get("STOCKMESH_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,  # type: ignore[arg-type]
            traces_file=Path(traces) if traces else None,
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            token_leeway_seconds=number(env, "STOCKMESH_TOKEN_LEEWAY_SECONDS", 30.0, minimum=0.0),
            grace_seconds=number(env, "STOCKMESH_GRACE_SECONDS", 10.0),
            console_dir=Path(console).resolve() if console else default_console_dir(),
        )
