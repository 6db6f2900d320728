"""Settings, read once from the environment at start-up.

Defaults make `stockmesh up` work on a fresh machine: every service on
127.0.0.1, SQLite files under the state directory, mTLS with a dev CA. In the
cluster the same variables come from the Deployment (DATABASE_URL from a
Secret, STOCKMESH_TLS_MODE=mesh behind the Istio sidecar).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kit import services
from kit.mesh import files as mesh_files

TlsMode = Literal["mtls", "mesh"]
# The Kubernetes namespace the services run in, and that mesh/istio/ is written for.
DEFAULT_NAMESPACE = "stockmesh"


class SettingsError(ValueError):
    """A variable is missing or malformed: the process refuses to start."""


def service_account(service: str) -> str:
    """The Kubernetes service account (and SPIFFE `sa`) a service runs as."""
    return f"svc-{service}"


@dataclass(frozen=True)
class Settings:
    service: str
    home: Path
    database_url: str
    grpc_listen: str
    metrics_listen: str | None
    tls_mode: TlsMode
    tls_dir: Path
    trust_domain: str
    namespace: str
    peers: Mapping[str, str]
    redis_url: str | None
    log_level: str
    log_format: Literal["json", "text"]
    traces_file: Path | None
    otlp_endpoint: str | None
    health_probe_seconds: float
    grace_seconds: float
    token_leeway_seconds: float
    # The mesh's policy files (kit.mesh) and this workload's version label.
    mesh_dir: Path
    version: str
    # Connections kept per process (and as many more at a peak); None: the
    # service's own default, sized for its load.
    database_pool_size: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def pool_size(self, default: int) -> int:
        return self.database_pool_size or default

    @property
    def account(self) -> str:
        """The service account this process runs as (its certificate's name)."""
        return service_account(self.service)

    @property
    def spiffe_id(self) -> str:
        return spiffe_id(self.trust_domain, self.namespace, self.account)

    @property
    def labels(self) -> Mapping[str, str]:
        """The workload's labels, as its pods carry them: what the mesh's
        policies select on."""
        return {"app": self.account, "version": self.version}

    def peer(self, service: str) -> str:
        try:
            return self.peers[service]
        except KeyError:
            raise SettingsError(f"no address for service {service!r}") from None

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        registered = services.available()
        if service not in registered:
            raise SettingsError(f"unknown service {service!r}; one of {', '.join(registered)}")
        grpc_port, metrics_port = services.ports(service)
        home = Path(env.get("STOCKMESH_HOME", ".stockmesh")).resolve()
        default_db = f"sqlite:///{home / 'data' / f'{service}.db'}"
        tls_mode = env.get("STOCKMESH_TLS_MODE", "mtls")
        if tls_mode not in ("mtls", "mesh"):
            raise SettingsError(f"STOCKMESH_TLS_MODE must be mtls or mesh, not {tls_mode!r}")
        log_format = env.get("STOCKMESH_LOG_FORMAT", "json")
        if log_format not in ("json", "text"):
            raise SettingsError(f"STOCKMESH_LOG_FORMAT must be json or text, not {log_format!r}")
        metrics = env.get("STOCKMESH_METRICS_LISTEN", f"127.0.0.1:{metrics_port}")
        traces_file = env.get("STOCKMESH_TRACES_FILE")
        return cls(
            service=service,
            home=home,
            # The service's own variable wins, so one environment can serve all
            # services locally; in a pod, plain DATABASE_URL is the usual form.
            database_url=env.get(f"STOCKMESH_{service.upper()}_DATABASE_URL")
            or env.get("DATABASE_URL", default_db),
            grpc_listen=env.get("STOCKMESH_GRPC_LISTEN", f"127.0.0.1:{grpc_port}"),
            metrics_listen=metrics or None,
            tls_mode=tls_mode,  # type: ignore[arg-type]
            tls_dir=Path(env.get("STOCKMESH_TLS_DIR", str(home / "tls"))).resolve(),
            trust_domain=env.get("STOCKMESH_TRUST_DOMAIN", "stockmesh.local"),
            namespace=env.get("STOCKMESH_NAMESPACE", DEFAULT_NAMESPACE),
            peers={
                name: env.get(f"STOCKMESH_{name.upper()}_ADDR", f"127.0.0.1:{services.ports(name)[0]}")
                for name in registered
            },
            redis_url=env.get("REDIS_URL") or None,
            log_level=env.get("STOCKMESH_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,  # type: ignore[arg-type]
            traces_file=Path(traces_file) if traces_file else None,
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            health_probe_seconds=number(env, "STOCKMESH_HEALTH_PROBE_SECONDS", 2.0),
            grace_seconds=number(env, "STOCKMESH_GRACE_SECONDS", 10.0),
            token_leeway_seconds=number(env, "STOCKMESH_TOKEN_LEEWAY_SECONDS", 30.0, minimum=0.0),
            mesh_dir=mesh_files.mesh_dir(env),
            version=env.get("STOCKMESH_VERSION", "v1"),
            database_pool_size=int(number(env, "STOCKMESH_DATABASE_POOL_SIZE", 0, minimum=1)) or None,
            extra={k: v for k, v in env.items() if k.startswith(f"STOCKMESH_{service.upper()}_")},
        )


def spiffe_id(trust_domain: str, namespace: str, account: str) -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{account}"


def number(env: Mapping[str, str], name: str, default: float, *, minimum: float | None = None) -> float:
    """A finite number from `env[name]` (default when unset or empty): above
    0, or at least `minimum` when given; anything else refuses to start."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or ((value < minimum) if minimum is not None else (value <= 0)):
        raise SettingsError(f"{name} is out of range: {raw!r}")
    return value


def seconds(settings: Settings, name: str, default: float) -> float:
    """A service-specific duration, e.g. STOCKMESH_USER_ACCESS_TOKEN_SECONDS."""
    return number(settings.extra, f"STOCKMESH_{settings.service.upper()}_{name}", default)


def count(settings: Settings, name: str, default: int) -> int:
    """A service-specific positive whole number, e.g. STOCKMESH_STOCK_WATCH_QUEUE_SIZE."""
    variable = f"STOCKMESH_{settings.service.upper()}_{name}"
    raw = settings.extra.get(variable, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{variable} must be a whole number from 1, not {raw!r}")
    return int(raw)
