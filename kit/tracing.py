"""OpenTelemetry tracing: one trace follows a request through every service.

Spans go to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set, and/or
to a JSON-lines file (STOCKMESH_TRACES_FILE) for local runs and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from kit.settings import Settings, service_account


class JsonLinesExporter(SpanExporter):
    """Appends each finished span as one JSON line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[str] = path.open("a", encoding="utf-8")

    def export(self, spans: object) -> SpanExportResult:
        for span in spans:  # type: ignore[attr-defined]
            assert isinstance(span, ReadableSpan)
            self._out.write(span.to_json(indent=None) + "\n")
        self._out.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._out.close()


def configure(settings: Settings) -> TracerProvider:
    return configure_for(service_account(settings.service), settings.traces_file, settings.otlp_endpoint)


def configure_for(name: str, traces_file: Path | None, otlp_endpoint: str | None) -> TracerProvider:
    """Install the process's tracer provider: spans of `name` go to the file
    and/or the OTLP collector given."""
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if traces_file is not None:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(traces_file)))
    if otlp_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    return provider
