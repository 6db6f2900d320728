"""Which workload is calling, and whether the mesh lets it call a method.

The caller's identity is its SPIFFE ID: from its certificate, as gRPC read
it at the handshake, or behind the Istio sidecar (mesh mode) from the
sidecar's `x-forwarded-client-cert`, trusted from loopback only. The
decision is the mesh's AuthorizationPolicy for this workload
(`kit.mesh.authz`), the same files the sidecar applies in the cluster."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

from kit import errors
from kit.mesh.authz import Authorizer
from kit.rpc import Context

log = logging.getLogger("kit.rpc")


class Workloads:
    def __init__(self, authorizer: Authorizer, *, workload: str, identity_from: str = "mtls") -> None:
        self.authorizer = authorizer
        self.workload = workload  # this server's own SPIFFE id, for refusals
        self.identity_from = identity_from

    def authorize(self, peer: str | None, method: str) -> None:
        """The mesh's AuthorizationPolicy, as the sidecar would apply it."""
        decision = self.authorizer.decide(peer, method)
        if decision.allowed:
            return
        if peer is None:
            source = (
                "the sidecar's x-forwarded-client-cert"
                if self.identity_from == "mesh"
                else "a SPIFFE ID in its certificate"
            )
            raise errors.Unauthenticated(
                f"{method} needs the calling workload's identity ({source}); this call has none",
                reason="PEER_IDENTITY_MISSING",
            )
        log.warning(
            "mesh policy refused a call",
            extra={"caller": peer, "callee": self.workload, "method": method, "policy": decision.policy},
        )
        raise errors.PermissionDenied(
            f"{peer} may not call {method} of {self.workload}: "
            "no rule of the mesh's AuthorizationPolicy allows it",
            reason="MESH_POLICY_DENIED",
            metadata={"caller": peer, "callee": self.workload, "method": method},
        )

    def identify(self, ctx: Context, metadata: Mapping[str, Any]) -> str | None:
        if self.identity_from == "mesh":
            # Behind the Istio sidecar: it terminated mTLS and says who called,
            # in a header anyone could send: trusted only from the sidecar,
            # which connects from the loopback interface (Istio's inbound
            # connections come from 127.0.0.6).
            header = metadata.get("x-forwarded-client-cert")
            if header is None:
                return None
            if not loopback(ctx.peer()):
                raise errors.Unauthenticated(
                    "x-forwarded-client-cert is trusted only from the workload's own sidecar on loopback",
                    reason="FORWARDED_IDENTITY_UNTRUSTED",
                )
            return xfcc_uri(header)
        # The verified certificate's SANs, as gRPC read them at the handshake
        # (not the whole auth context, which is rebuilt on every call).
        for identity in ctx.peer_identities() or ():
            if identity.startswith(b"spiffe://"):
                return identity.decode()
        return None


def loopback(peer: str | None) -> bool:
    """Whether a gRPC peer ("ipv4:127.0.0.6:41234", "ipv6:[::1]:41234") is on loopback."""
    if not peer:
        return False
    family, _, rest = peer.partition(":")
    if family not in ("ipv4", "ipv6"):
        return False
    host = rest.rpartition(":")[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def xfcc_uri(header: object) -> str | None:
    if not isinstance(header, str):
        return None
    # Several elements (one per proxy hop) are comma-separated; the last is ours.
    for pair in reversed(header.split(",")[-1].split(";")):
        key, _, value = pair.partition("=")
        if key.strip().lower() == "uri":
            return value.strip().strip('"') or None
    return None
