"""Circuit breaking on the client, from a DestinationRule: outlier
detection (an endpoint answering server faults again and again is ejected
for a while, and calls to it fail at once) and the connection pool's limits
(calls, and retries, in flight at once).

Locally a service is one endpoint, so ejecting it opens the circuit for the
whole service: calls fail fast with UNAVAILABLE until the ejection ends, and
the next call that succeeds closes it. Faults are counted as Envoy counts
them, by the HTTP status of the gRPC status (Envoy's grpcToHttpStatus):
UNKNOWN, INTERNAL, DATA_LOSS 500, UNIMPLEMENTED 501, UNAVAILABLE 503 and
DEADLINE_EXCEEDED 504 are server faults; 502, 503 and 504 gateway errors.
As in Envoy, each ejection lasts `baseEjectionTime` times the number of
times the endpoint was ejected (capped), and that number falls by one for
each detection interval the endpoint stays in.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from kit.mesh.traffic import Outlier

SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
GATEWAY_ERRORS = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class Breaker:
    def __init__(
        self,
        outlier: Outlier | None,
        *,
        max_requests: int | None,
        max_retries: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outlier = outlier
        self.max_requests = max_requests
        self.max_retries = max_retries
        self.clock = clock
        self.active = 0
        self.retrying = 0
        self._faults = 0
        self._gateway_errors = 0
        self._ejected_until = float("-inf")
        self._ejections = 0
        self._settled_at = clock()

    def refusal(self) -> str | None:
        """Why a new call must fail at once, or None when it may go."""
        now = self.clock()
        if now < self._ejected_until:
            return (
                f"circuit open: {self._faults_needed()} server faults in a row; "
                f"calls fail fast for {self._ejected_until - now:.1f} s more"
            )
        self._settle(now)
        if self.max_requests is not None and self.active >= self.max_requests:
            return f"too many calls in flight (connection pool limit {self.max_requests})"
        return None

    def may_retry(self) -> bool:
        return self.max_retries is None or self.retrying < self.max_retries

    def record(self, code: grpc.StatusCode) -> None:
        if self.outlier is None:
            return
        if code in SERVER_FAULTS:
            self._faults += 1
        else:
            self._faults = 0
        if code in GATEWAY_ERRORS:
            self._gateway_errors += 1
        else:
            self._gateway_errors = 0
        limit_5xx, limit_gateway = self.outlier.consecutive_5xx, self.outlier.consecutive_gateway
        if (limit_5xx is not None and self._faults >= limit_5xx) or (
            limit_gateway is not None and self._gateway_errors >= limit_gateway
        ):
            self._eject()

    def _eject(self) -> None:
        assert self.outlier is not None
        now = self.clock()
        self._ejections += 1
        seconds = min(
            self.outlier.base_ejection * self._ejections,
            max(self.outlier.max_ejection, self.outlier.base_ejection),
        )
        self._ejected_until = now + seconds
        self._settled_at = self._ejected_until
        self._faults = self._gateway_errors = 0

    def _settle(self, now: float) -> None:
        """One ejection forgiven per detection interval spent in."""
        if self.outlier is None or not self._ejections:
            return
        intervals = int((now - self._settled_at) // self.outlier.interval)
        if intervals > 0:
            self._ejections = max(0, self._ejections - intervals)
            self._settled_at += intervals * self.outlier.interval

    def _faults_needed(self) -> int:
        assert self.outlier is not None
        counts = [c for c in (self.outlier.consecutive_5xx, self.outlier.consecutive_gateway) if c]
        return min(counts) if counts else 0
