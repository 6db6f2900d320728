"""Where the Envoy edge sends a request: its HTTP filters in order, every
transcoded RPC routed to its service's cluster with the right time limits, every
REST call routed before transcoding (streams as events), the clusters and their
health checks, the transcoder's options, and the listener, admin and access log."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kit import services
from tests.support.envoy_edge import (
    FILTERS,
    JWT,
    PROVIDER,
    TRANSCODER,
    Edge,
    each_rest_route,
    proto_services,
    route_of,
    sample_path,
)


def test_the_http_filters_run_in_the_documented_order(edge: Edge) -> None:
    assert [f.name for f in edge.hcm.http_filters] == FILTERS


@pytest.mark.parametrize("service", sorted(proto_services()))
def test_every_transcoded_rpc_is_routed_to_its_services_cluster(edge: Edge, service: str) -> None:
    assert service in edge.filter(TRANSCODER).services
    cluster = f"svc-{service.split('.')[1]}"

    for method in proto_services()[service]:
        route = route_of(edge, f"/{service}/{method.name}")
        assert route is not None, method.full_name
        assert route.route is not None, method.full_name
        assert route.route.cluster == cluster
        if method.server_streaming:
            assert route.route.timeout.total_seconds() == 0  # the whole answer is the stream
            assert route.route.idle_timeout.total_seconds() > 15  # heartbeats every 15 s
            assert route.route.max_stream_duration.max_stream_duration.total_seconds() > 1800
        else:
            # With max_stream_duration set, it is the limit Envoy applies, not `timeout`.
            limits = route.route.max_stream_duration
            assert limits.max_stream_duration.total_seconds() == 15
            assert limits.grpc_timeout_header_max == limits.max_stream_duration == route.route.timeout


def test_every_cluster_named_exists_and_every_cluster_is_used(edge: Edge) -> None:
    provider = edge.filter(JWT).providers[PROVIDER]
    named = {route.route.cluster for route in edge.routes if route.route is not None}
    named.add(provider.remote_jwks.http_uri.cluster)

    assert named == set(edge.clusters)


@pytest.mark.parametrize("service", services.available())
def test_each_service_cluster_speaks_http2_to_its_service_and_checks_grpc_health(
    edge: Edge, service: str
) -> None:
    cluster = edge.clusters[f"svc-{service}"]
    options = cluster.typed_extension_protocol_options[
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    (locality,) = cluster.load_assignment.endpoints
    (endpoint,) = locality.lb_endpoints
    address = endpoint.endpoint.address.socket_address
    (health,) = cluster.health_checks

    assert options.unpack().explicit_http_config.http2_protocol_options is not None
    assert cluster.type.name == "STRICT_DNS"
    assert (address.address, address.port_value) == (
        f"svc-{service}.stockmesh.svc.cluster.local",
        services.ports(service)[0],
    )
    assert cluster.transport_socket is None  # plaintext: the Istio sidecar does mTLS
    assert health.grpc_health_check is not None
    assert cluster.connect_timeout.total_seconds() > 0


@each_rest_route
def test_a_rest_call_finds_a_route_before_transcoding_and_only_streams_are_events(
    edge: Edge, method: Any, verb: str, template: str
) -> None:
    route = route_of(edge, sample_path(template))
    assert route is not None, "the cors filter finds its policy only through a route"
    override = route.typed_per_filter_config.get(TRANSCODER)

    if method.server_streaming:
        expected = copy.deepcopy(edge.filter(TRANSCODER))
        expected.print_options.stream_sse_style_delimited = True
        assert override.unpack() == expected
    else:
        assert override is None


def test_the_transcoder_converts_grpc_status_and_refuses_what_it_cannot_map(edge: Edge) -> None:
    transcoder = edge.filter(TRANSCODER)
    printing = transcoder.print_options

    assert transcoder.proto_descriptor == "/etc/envoy/stockmesh.binpb"
    assert transcoder.convert_grpc_status
    assert transcoder.request_validation_options.reject_unknown_method
    assert transcoder.request_validation_options.reject_unknown_query_parameters
    assert not transcoder.ignore_unknown_query_parameters
    assert not transcoder.ignored_query_parameters
    assert not transcoder.auto_mapping
    assert not transcoder.match_incoming_request_route
    assert printing.always_print_primitive_fields
    assert not printing.add_whitespace
    assert not printing.always_print_enums_as_ints
    assert not printing.preserve_proto_field_names
    assert not printing.stream_sse_style_delimited  # only on the stream route: envoyproxy/envoy#41593


def test_the_listener_admin_and_access_log_are_where_the_cluster_expects(edge: Edge) -> None:
    listening = edge.listener.address.socket_address
    admin = edge.bootstrap.admin.address.socket_address
    (log,) = edge.hcm.access_log
    fields = log.typed_config.unpack().log_format.json_format.fields

    assert (listening.address, listening.port_value) == ("0.0.0.0", 8080)
    assert (admin.address, admin.port_value) == ("127.0.0.1", 9901)
    assert fields["request_id"].string_value == "%REQ(X-REQUEST-ID)%"
    assert fields["traceparent"].string_value == "%REQ(TRACEPARENT)%"
    assert fields["status"].string_value == "%RESPONSE_CODE%"
    assert fields["route"].string_value == "%ROUTE_NAME%"
