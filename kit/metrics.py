"""Prometheus metrics with the standard gRPC server names (as go-grpc-prometheus
and py-grpc-prometheus name them), served on a separate HTTP port."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

LABELS = ("grpc_type", "grpc_service", "grpc_method")

started = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    LABELS,
)
handled = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, regardless of success or failure.",
    (*LABELS, "grpc_code"),
)
handling_seconds = Histogram(
    "grpc_server_handling_seconds",
    "Response latency of RPCs handled by the server, in seconds.",
    LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
msg_sent = Counter(
    "grpc_server_msg_sent_total",
    "Stream messages sent by the server.",
    LABELS,
)

batch_size = Histogram(
    "stockmesh_batch_size",
    "Calls written together in one batch (kit.batching), by what the batch does.",
    ("batch",),
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)


def serve(listen: str) -> None:
    """Expose /metrics on `listen` (host:port) from a daemon thread."""
    host, _, port = listen.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")
