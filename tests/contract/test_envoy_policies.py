"""What the Envoy edge lets through: without a token exactly the RPCs whose
contract says "Roles: none: public." (and /healthz), otherwise svc_user's access
tokens checked against its JWKS; CORS for the contracts' methods; and one token
bucket for every route but /healthz."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kit import auth
from tests.support.envoy_edge import (
    JWT,
    PROVIDER,
    RATE_LIMIT,
    TRANSCODER,
    Edge,
    bindings,
    contract_routes,
    each_rest_route,
    matches,
    proto_services,
    public_rpcs,
    route_of,
    sample_path,
)


def test_the_open_paths_are_exactly_the_public_rpcs_and_healthz(edge: Edge) -> None:
    rules = edge.filter(JWT).rules
    open_paths = {
        rule.match.path for rule in rules if rule.requires is None and rule.requirement_name is None
    }
    methods = {m.full_name: m for methods in proto_services().values() for m in methods}
    public_paths = {path for name in public_rpcs() for _, path in bindings(methods[name])}

    assert public_rpcs() == {
        f"stockmesh.user.v1.AuthService.{rpc}" for rpc in ("Login", "RefreshToken", "Logout", "GetJwks")
    }
    assert open_paths == public_paths | {"/healthz"}
    assert rules[-1].match.prefix == "/"
    assert rules[-1].requires.provider_name == PROVIDER
    assert all(rule.requires is not None or rule.match.path in open_paths for rule in rules)


@each_rest_route
def test_a_rest_call_needs_a_token_unless_its_rpc_is_public(
    edge: Edge, method: Any, verb: str, template: str
) -> None:
    rule = next(rule for rule in edge.filter(JWT).rules if matches(rule.match, sample_path(template)))

    if method.full_name in public_rpcs():
        assert rule.requires is None
    else:
        assert rule.requires.provider_name == PROVIDER


def test_cors_allows_the_methods_the_contracts_use_from_a_placeholder_origin(edge: Edge) -> None:
    (host,) = edge.hcm.route_config.virtual_hosts
    policy = host.typed_per_filter_config["envoy.filters.http.cors"].unpack()
    (origin,) = policy.allow_origin_string_match

    assert {verb for _, verb, _ in contract_routes()} == {m.strip() for m in policy.allow_methods.split(",")}
    assert "authorization" in policy.allow_headers
    assert origin.exact.startswith("https://")  # set per overlay


def test_tokens_are_stockmesh_access_tokens_checked_against_svc_users_jwks_through_this_listener(
    edge: Edge,
) -> None:
    provider = edge.filter(JWT).providers[PROVIDER]
    uri = urlsplit(provider.remote_jwks.http_uri.uri)
    (locality,) = edge.clusters[provider.remote_jwks.http_uri.cluster].load_assignment.endpoints
    loopback = locality.lb_endpoints[0].endpoint.address.socket_address
    listening = edge.listener.address.socket_address
    (header,) = provider.from_headers
    get_jwks = next(m for m in proto_services()["stockmesh.user.v1.AuthService"] if m.name == "GetJwks")

    assert (provider.issuer, provider.audiences) == (auth.ISSUER, [auth.AUDIENCE])
    assert provider.forward
    assert (header.name.lower(), header.value_prefix) == ("authorization", "Bearer ")
    assert provider.remote_jwks.cache_duration.total_seconds() > 0
    # The JWKS comes from this listener, which transcodes GET /v1/jwks to svc_user's GetJwks.
    assert (uri.hostname, uri.port, uri.path) == ("127.0.0.1", listening.port_value, "/v1/jwks")
    assert (loopback.address, loopback.port_value) == ("127.0.0.1", listening.port_value)
    assert ("GET", "/v1/jwks") in set(bindings(get_jwks))
    assert route_of(edge, f"/{get_jwks.containing_service.full_name}/GetJwks").route.cluster == "svc-user"


def test_one_token_bucket_guards_every_route_but_healthz(edge: Edge) -> None:
    limit = edge.filter(RATE_LIMIT)
    healthz = route_of(edge, "/healthz")

    assert (limit.token_bucket.max_tokens, limit.token_bucket.tokens_per_fill) == (100, 100)
    assert limit.token_bucket.fill_interval.total_seconds() == 1
    for percent in (limit.filter_enabled, limit.filter_enforced):
        assert (percent.default_value.numerator, percent.default_value.denominator.name) == (100, "HUNDRED")
    assert limit.enable_x_ratelimit_headers.name == "DRAFT_VERSION_03"
    assert healthz.direct_response.status == 200
    assert {name for name, config in healthz.typed_per_filter_config.items() if config.unpack().disabled} == {
        RATE_LIMIT,
        TRANSCODER,
    }
