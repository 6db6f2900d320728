"""Property-based: requests generated from `/openapi.json` for every
operation, authenticated, never get a 5xx nor a response the document does
not describe (status, media type, headers, body schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.conftest import Stacks, create_tenant
from tests.integration.gateway.conftest import BACKEND, GatewayProcess, Rest, start_gateway

EXAMPLES = 12  # per operation: about a thousand requests in all

# The properties every response must hold, whatever was sent; not whether
# the service accepts schema-valid data (a SKU must exist to be received).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# A stream's body is many JSON documents (events or lines), not one: its
# messages' schema is checked by the stream tests.
STREAM_CHECKS = CHECKS[:4]


@pytest.fixture(scope="module")
def open_gateway(stacks: Stacks, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    # Limits high enough that generated traffic is not mostly 429s.
    gateway = start_gateway(
        stacks,
        tmp_path_factory.mktemp("property"),
        env={
            "STOCKMESH_GATEWAY_RATE_PER_USER": "10000",
            "STOCKMESH_GATEWAY_BURST_PER_USER": "10000",
            "STOCKMESH_GATEWAY_RATE_PER_ADDRESS": "10000",
            "STOCKMESH_GATEWAY_BURST_PER_ADDRESS": "10000",
            # A live stream ends after a second, so each example of it ends.
            "STOCKMESH_GATEWAY_STREAM_MAX_SECONDS": "1",
        },
    )
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def token(open_gateway: GatewayProcess, stacks: Stacks) -> str:
    slug, email = create_tenant(stacks.user(BACKEND).database_url)
    with httpx.Client(base_url=open_gateway.base_url, timeout=20) as http:
        return Rest(http, slug, email).login()["tokens"]["accessToken"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def api(open_gateway: GatewayProcess) -> Any:
    return schemathesis.openapi.from_url(f"{open_gateway.base_url}/openapi.json")


def holds_for(operation: Any, base_url: str, token: str) -> Callable[[], None]:
    """The property of one operation, run by calling the result."""
    chosen = STREAM_CHECKS if operation.path.endswith(":watch") else CHECKS

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def holds(case: Any) -> None:
        # A deadline the client chose is kept (a 3 ms one ends in 504, as
        # it should); that is specified in test_refusals, not here.
        if case.headers:
            case.headers.pop("grpc-timeout", None)
        case.call_and_validate(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=chosen, timeout=20
        )

    return holds  # type: ignore[no-any-return]


def test_no_generated_request_gets_a_5xx_or_a_response_the_document_does_not_describe(
    api: Any, token: str, open_gateway: GatewayProcess
) -> None:
    # Each operation is its own property; every failing one is reported.
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    for operation in operations:
        try:
            holds_for(operation, open_gateway.base_url, token)()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together below
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert len(operations) == 86
    assert failures == [], "\n\n".join(failures)


def test_the_served_document_is_valid_openapi_3_1(open_gateway: GatewayProcess) -> None:
    from openapi_spec_validator import validate

    document = httpx.get(f"{open_gateway.base_url}/openapi.json", timeout=10).json()

    validate(document)
    assert document["openapi"] == "3.1.0"
