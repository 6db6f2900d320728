"""The Envoy edge (gateway/envoy/envoy.yaml) is a bootstrap Envoy accepts, down
to every typed_config; it serves exactly the Python gateway's routes, sends
every transcoded RPC to its service's cluster, and lets through without a
token exactly the RPCs whose contract says "Roles: none: public."

The config is read into Envoy's published API types (the envoy-data-plane
package). That library refuses an unknown field name by itself, but it is lax
about JSON types and name spellings that Envoy's parser refuses (a string
where a list goes is split into characters, "yes" is a bool, 1.5 an integer,
any casing of a name is snake-cased), so a strict walk of the same types runs
first: every key must be the proto field name or its lowerCamelCase JSON name,
every value of its field's JSON type, every `@type` a known message.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import importlib
import itertools
import keyword
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import MethodDescriptor

from kit import auth, services

with warnings.catch_warnings():
    # The library's generated classes use a pydantic validator form deprecated
    # since pydantic 2.12: harmless here, and the suite makes warnings errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    import betterproto2
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    from envoy_data_plane.google import protobuf as wkt
    from envoy_data_plane.message_pool import default_message_pool

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gateway" / "envoy" / "envoy.yaml"
PROTO = ROOT / "proto"
BUF = ROOT / "node_modules" / ".bin" / "buf"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
JWT = "envoy.filters.http.jwt_authn"
RATE_LIMIT = "envoy.filters.http.local_ratelimit"
FILTERS = ["envoy.filters.http.cors", JWT, RATE_LIMIT, TRANSCODER, "envoy.filters.http.router"]
PROVIDER = "stockmesh-user"


# --- Reading the config as Envoy would -----------------------------------------------------------


class ConfigError(ValueError):
    """Something Envoy refuses: an unknown field or @type, a value of the wrong JSON type."""


class StrictLoader(yaml.SafeLoader):
    """YAML without silent overwrites: a key given twice in one mapping is an
    error, and so is a `<<` merge key, which Envoy's YAML reader is not
    documented to apply."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise yaml.constructor.ConstructorError(None, None, "merge key (<<)", key_node.start_mark)
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read(text: str) -> dict[str, Any]:
    config = yaml.load(text, Loader=StrictLoader)  # a SafeLoader: plain data only
    assert isinstance(config, dict)
    return config


def load(config: dict[str, Any]) -> Bootstrap:
    """The bootstrap in Envoy's API types, or an error naming what Envoy would refuse."""
    check(config, Bootstrap, "bootstrap")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the library warns on deprecated fields
        bootstrap = Bootstrap.from_dict(config)
        list(packed(bootstrap))  # each typed_config decodes back into its own type
        bytes(bootstrap)
    return bootstrap


def packed(message: betterproto2.Message) -> Iterator[betterproto2.Message]:
    """The content of every Any inside `message`, unpacked, at any depth."""
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, wkt.Any):
                inner = item.unpack()
                yield inner
                yield from packed(inner)
            elif isinstance(item, betterproto2.Message):
                yield from packed(item)


# Messages whose proto3 JSON form is not an object, by JSON kind.
STRINGS = {"Duration", "Timestamp", "FieldMask"}
WRAPPERS = {f"{kind}Value" for kind in ("Bool", "String", "Bytes", "Int32", "Int64", "UInt32", "UInt64")}
WRAPPERS |= {"FloatValue", "DoubleValue"}
NOT_OBJECTS = STRINGS | WRAPPERS | {"Struct", "ListValue", "Value"}
DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
INTEGER = re.compile(r"-?\d+")


def check(value: Any, cls: type, where: str) -> None:
    """Raise ConfigError unless `value` is the proto3 JSON form of message `cls`."""
    name = cls.__name__ if cls.__module__ == wkt.__name__ else ""
    if name == "Any":
        _check_any(value, where)
    elif name in STRINGS:
        if not isinstance(value, str) or (name == "Duration" and not DURATION.fullmatch(value)):
            raise ConfigError(f"{where}: {value!r} is not a {name} string such as '1.5s'")
    elif name in WRAPPERS:
        meta = dataclasses.fields(cls)[0].metadata["betterproto"]
        _check_value(value, meta, type(None), where)
    elif name in ("Struct", "ListValue", "Value"):
        kind = {"Struct": dict, "ListValue": list, "Value": object}[name]
        _expect(value, kind, where)
    else:
        _check_message(value, cls, where)


def _check_message(value: Any, cls: type, where: str) -> None:
    _expect(value, dict, where)
    names = {}
    for field in dataclasses.fields(cls):
        proto = field.name[:-1] if keyword.iskeyword(field.name[:-1]) else field.name
        first, *rest = proto.split("_")
        names[proto] = names[first + "".join(part[:1].upper() + part[1:] for part in rest)] = field
    seen: set[str] = set()
    for key, item in value.items():
        if key not in names:
            raise ConfigError(f"{where}: {cls.__name__} has no field {key!r}")
        field = names[key]
        if field.name in seen:
            raise ConfigError(f"{where}: {field.name} is set twice")
        seen.add(field.name)
        if item is None:
            continue  # JSON null: the field's default
        meta, at = field.metadata["betterproto"], f"{where}.{key}"
        classes = cls._betterproto.cls_by_field  # type: ignore[attr-defined]
        if meta.proto_type == betterproto2.TYPE_MAP:
            _expect(item, dict, at)
            for entry, one in item.items():
                _check_value(one, meta.map_meta[1], classes[f"{field.name}.value"], f"{at}[{entry!r}]")
        elif meta.repeated:
            _expect(item, list, at)
            for i, one in enumerate(item):
                _check_value(one, meta, classes[field.name], f"{at}[{i}]")
        else:
            _check_value(item, meta, classes[field.name], at)


def _check_value(value: Any, meta: Any, field_cls: type, where: str) -> None:
    kind = meta.proto_type
    if kind == betterproto2.TYPE_MESSAGE:
        check(value, meta.unwrap() if meta.unwrap else field_cls, where)
    elif kind == betterproto2.TYPE_BOOL:
        _expect(value, bool, where)
    elif kind in (betterproto2.TYPE_STRING, betterproto2.TYPE_BYTES):
        _expect(value, str, where)
    elif kind == betterproto2.TYPE_ENUM:
        if not isinstance(value, str) and not _is_integer(value):
            raise ConfigError(f"{where}: {value!r} is neither an enum value's name nor its number")
    elif kind in betterproto2.ALL_INT_TYPES:
        if not _is_integer(value) and not (isinstance(value, str) and INTEGER.fullmatch(value)):
            raise ConfigError(f"{where}: {value!r} is not an integer")
    elif not (isinstance(value, int | float) and not isinstance(value, bool)):
        raise ConfigError(f"{where}: {value!r} is not a number")


def _check_any(value: Any, where: str) -> None:
    _expect(value, dict, where)
    type_url = value.get("@type")
    if not isinstance(type_url, str):
        raise ConfigError(f"{where}: a typed config needs an @type")
    cls = message_type(type_url)
    rest = {key: item for key, item in value.items() if key != "@type"}
    if cls.__module__ == wkt.__name__ and cls.__name__ in NOT_OBJECTS:
        check(rest.get("value"), cls, f"{where}.value")
    else:
        check(rest, cls, f"{where}<{cls.__name__}>")


def message_type(type_url: str) -> type:
    """The API type of an @type, importing its package (which registers it) on first use."""
    if type_url not in default_message_pool.url_to_type:
        parts = type_url.rsplit("/", 1)[-1].split(".")
        package = ".".join(itertools.takewhile(lambda part: not part[:1].isupper(), parts))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # as for the imports above
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"envoy_data_plane.{package}")
    if type_url not in default_message_pool.url_to_type:
        raise ConfigError(f"unknown @type {type_url!r}")
    return default_message_pool.url_to_type[type_url]


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")


# --- The edge as loaded --------------------------------------------------------------------------


@dataclasses.dataclass
class Edge:
    bootstrap: Any

    @property
    def listener(self) -> Any:
        (listener,) = self.bootstrap.static_resources.listeners
        return listener

    @functools.cached_property
    def hcm(self) -> Any:
        (chain,) = self.listener.filter_chains
        (network,) = chain.filters
        return network.typed_config.unpack()

    @functools.cached_property
    def filters(self) -> dict[str, Any]:
        return {f.name: f.typed_config.unpack() for f in self.hcm.http_filters}

    def filter(self, name: str) -> Any:
        return self.filters[name]

    @property
    def routes(self) -> list[Any]:
        (host,) = self.hcm.route_config.virtual_hosts
        return host.routes

    @property
    def clusters(self) -> dict[str, Any]:
        return {cluster.name: cluster for cluster in self.bootstrap.static_resources.clusters}


@pytest.fixture(scope="module")
def edge() -> Edge:
    return Edge(load(read(CONFIG.read_text())))


def matches(match: Any, path: str) -> bool:
    """RouteMatch on a path, as Envoy does it for the matchers this config uses."""
    assert not match.headers, "only path, prefix and safe_regex matches are simulated"
    assert not match.query_parameters
    assert match.grpc is None
    if match.path is not None:
        return path == match.path
    if match.prefix is not None:
        return path.startswith(match.prefix)
    assert match.safe_regex is not None, "only path, prefix and safe_regex matches are simulated"
    return re.fullmatch(match.safe_regex.regex, path) is not None


def route_of(edge: Edge, path: str) -> Any:
    return next((route for route in edge.routes if matches(route.match, path)), None)


# --- The contracts -------------------------------------------------------------------------------


@functools.cache
def proto_services() -> dict[str, list[MethodDescriptor]]:
    """Every service in proto/ with its methods, from the generated modules."""
    out = {}
    for path in sorted(PROTO.rglob("*.proto")):
        module = importlib.import_module(
            str(path.relative_to(PROTO).with_suffix("")).replace("/", ".") + "_pb2"
        )
        for service in module.DESCRIPTOR.services_by_name.values():
            out[service.full_name] = list(service.methods)
    return out


@functools.cache
def public_rpcs() -> frozenset[str]:
    """Full names of the RPCs whose comment in proto/ says "Roles: none: public."."""
    out = set()
    for path in PROTO.rglob("*.proto"):
        text = path.read_text()
        package = re.search(r"^package ([\w.]+);", text, re.MULTILINE).group(1)  # type: ignore[union-attr]
        for service, body in re.findall(r"^service (\w+) \{(.*?)^\}", text, re.MULTILINE | re.DOTALL):
            for comment, rpc in re.findall(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(", body):
                if re.search(r"\bRoles:\s*none:\s*public\.", comment):
                    out.add(f"{package}.{service}.{rpc}")
    return frozenset(out)


def bindings(method: Any) -> Iterator[tuple[str, str]]:
    """(HTTP method, path template) of a method's rule and its additional_bindings."""
    options = method.GetOptions() if isinstance(method, MethodDescriptor) else method.options
    rule = options.Extensions[annotations_pb2.http]
    for one in (rule, *rule.additional_bindings):
        kind = one.WhichOneof("pattern")
        if kind == "custom":
            yield one.custom.kind, one.custom.path
        elif kind is not None:
            yield kind.upper(), getattr(one, kind)


def sample_path(template: str) -> str:
    """A request path the template matches: `/v1/{name=products/*}:archive` -> `/v1/products/x:archive`."""
    filled = re.sub(r"\{[^}=]+(?:=([^}]*))?\}", lambda m: m.group(1) or "*", template)
    return filled.replace("**", "x/y").replace("*", "x")


def contract_routes() -> list[tuple[MethodDescriptor, str, str]]:
    return [
        (method, verb, template)
        for methods in proto_services().values()
        for method in methods
        for verb, template in bindings(method)
    ]


# --- 1. Envoy's API types accept the config, and refuse a broken one ----------------------------


def test_the_config_loads_into_envoys_api_types_down_to_every_typed_config(edge: Edge) -> None:
    unpacked = {type(message).__name__ for message in packed(edge.bootstrap)}
    typed = {"HttpConnectionManager", "Cors", "CorsPolicy", "JwtAuthentication", "LocalRateLimit"}
    typed |= {"GrpcJsonTranscoder", "Router", "FilterConfig", "StdoutAccessLog", "HttpProtocolOptions"}

    assert unpacked == typed


def _transcoder(config: dict[str, Any]) -> dict[str, Any]:
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return next(f["typed_config"] for f in hcm["http_filters"] if f["name"] == TRANSCODER)


def _rename(config: dict[str, Any]) -> None:
    transcoder = _transcoder(config)
    transcoder["convert_grpc_statuss"] = transcoder.pop("convert_grpc_status")


def _first_route(config: dict[str, Any]) -> dict[str, Any]:
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return next(r for r in hcm["route_config"]["virtual_hosts"][0]["routes"] if "route" in r)["route"]


def _port(value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["admin"]["address"]["socket_address"].update(port_value=value)


def _spell(c: dict[str, Any]) -> None:
    _transcoder(c)["ConvertGrpcStatus"] = _transcoder(c).pop("convert_grpc_status")


# What is broken -> (how, what refuses it: the strict walk, or the library itself).
BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], type[Exception]]] = {
    "a misspelt field in a typed_config": (_rename, ConfigError),
    "a misspelt field in a plain message": (
        lambda c: c["static_resources"]["clusters"][0].update(conect_timeout="2s"),
        ConfigError,
    ),
    "a string where a bool goes": (lambda c: _transcoder(c).update(convert_grpc_status="yes"), ConfigError),
    "a string where a list goes": (
        lambda c: _transcoder(c).update(services="stockmesh.user.v1.UserService"),
        ConfigError,
    ),
    "a word where a port number goes": (_port("ninety"), ConfigError),
    "a fraction where an integer goes": (_port(9901.5), ConfigError),
    "a bare number where a duration goes": (lambda c: _first_route(c).update(timeout=15), ConfigError),
    "a name in neither proto nor JSON spelling": (_spell, ConfigError),
    "one field in both spellings": (lambda c: _transcoder(c).update(convertGrpcStatus=False), ConfigError),
    "an unknown @type": (
        lambda c: _transcoder(c).update({"@type": _transcoder(c)["@type"] + "s"}),
        ConfigError,
    ),
    "two choices of one oneof": (lambda c: _first_route(c).update(cluster_header="x-cluster"), ValueError),
    "a deprecated field": (lambda c: _first_route(c).update(max_grpc_timeout="15s"), DeprecationWarning),
}


@pytest.mark.parametrize(("breakage", "refusal"), BROKEN.values(), ids=list(BROKEN))
def test_a_broken_copy_of_the_config_is_refused_by_the_same_loader(
    breakage: Callable[[dict[str, Any]], None], refusal: type[Exception]
) -> None:
    config = read(CONFIG.read_text())
    load(copy.deepcopy(config))
    breakage(config)

    with pytest.raises(refusal):
        load(config)


def test_the_library_by_itself_refuses_an_unknown_field_even_inside_a_typed_config() -> None:
    config = read(CONFIG.read_text())
    _rename(config)
    message_type(_transcoder(config)["@type"])  # registered, as the loader's walk does first

    with pytest.raises(KeyError, match="convert_grpc_statuss"):
        Bootstrap.from_dict(config)


LAX = ["a string where a bool goes", "a string where a list goes", "a fraction where an integer goes"]
LAX += ["a name in neither proto nor JSON spelling", "one field in both spellings"]


@pytest.mark.parametrize("case", LAX)
def test_the_strict_walk_refuses_what_the_library_alone_lets_through(case: str) -> None:
    config = read(CONFIG.read_text())
    BROKEN[case][0](config)

    Bootstrap.from_dict(copy.deepcopy(config))
    with pytest.raises(ConfigError):
        load(config)


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "base: &b {a: 1}\nother:\n  <<: *b\n"])
def test_yaml_that_would_silently_overwrite_or_merge_is_refused(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        read(text)


# --- 2. The same routes as the Python gateway ----------------------------------------------------


@pytest.fixture(scope="module")
def buf_descriptors(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorSet:
    """Envoy's descriptor set, built by the CI step `ci/protos.py envoy-descriptors`."""
    if not BUF.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BUF} is missing under CI=true: `make test` installs buf with npm")
        pytest.skip(f"{BUF.relative_to(ROOT)} is not installed (`make test` or `npm install` installs it)")
    out = tmp_path_factory.mktemp("envoy") / "stockmesh.binpb"
    step = [sys.executable, str(ROOT / "ci" / "protos.py"), "envoy-descriptors", "--out", str(out)]
    built = subprocess.run(step, cwd=ROOT, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def envoy_routes(edge: Edge, files: descriptor_pb2.FileDescriptorSet) -> set[tuple[str, str]]:
    """(HTTP method, template) of every rule of exactly the services the transcoder serves."""
    served = set(edge.filter(TRANSCODER).services)
    return {
        binding
        for file in files.file
        for service in file.service
        if f"{file.package}.{service.name}" in served
        for method in service.method
        for binding in bindings(method)
    }


def test_envoy_serves_exactly_the_python_gateways_routes(
    edge: Edge, buf_descriptors: descriptor_pb2.FileDescriptorSet
) -> None:
    from gateway import routes

    python_gateway = {(r.http_method, r.template.text) for r in routes.load()}

    assert envoy_routes(edge, buf_descriptors) == python_gateway


def test_the_transcoder_serves_every_service_of_the_five_packages(
    edge: Edge, buf_descriptors: descriptor_pb2.FileDescriptorSet
) -> None:
    in_set = {
        f"{file.package}.{service.name}"
        for file in buf_descriptors.file
        if file.package.startswith("stockmesh.")
        for service in file.service
    }

    assert sorted(edge.filter(TRANSCODER).services) == sorted(in_set) == sorted(proto_services())
    assert {name.split(".")[1] for name in in_set} == set(services.available())


def test_the_descriptor_set_is_complete_with_imports_comments_and_error_details(
    buf_descriptors: descriptor_pb2.FileDescriptorSet,
) -> None:
    names = {file.name for file in buf_descriptors.file}
    pool = descriptor_pool.DescriptorPool()
    for file in buf_descriptors.file:
        pool.Add(file)  # fails on an import missing from the set
    sent = set(re.findall(r"error_details_pb2\.(\w+)", (ROOT / "kit" / "status.py").read_text()))

    assert all(set(file.dependency) <= names for file in buf_descriptors.file)
    assert all(
        file.source_code_info.location
        for file in buf_descriptors.file
        if file.package.startswith("stockmesh")
    )
    assert sent
    for name in {*sent, "Status"}:
        assert pool.FindMessageTypeByName(f"google.rpc.{name}")


# --- 3. Routes, clusters, open paths and the transcoder's options ---------------------------------


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


each_rest_route = pytest.mark.parametrize(
    ("method", "verb", "template"), contract_routes(), ids=lambda v: getattr(v, "name", v)
)


@each_rest_route
def test_a_rest_call_needs_a_token_unless_its_rpc_is_public(
    edge: Edge, method: Any, verb: str, template: str
) -> None:
    rule = next(rule for rule in edge.filter(JWT).rules if matches(rule.match, sample_path(template)))

    if method.full_name in public_rpcs():
        assert rule.requires is None
    else:
        assert rule.requires.provider_name == PROVIDER


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


def test_cors_allows_the_methods_the_contracts_use_from_a_placeholder_origin(edge: Edge) -> None:
    (host,) = edge.hcm.route_config.virtual_hosts
    policy = host.typed_per_filter_config["envoy.filters.http.cors"].unpack()
    (origin,) = policy.allow_origin_string_match

    assert {verb for _, verb, _ in contract_routes()} == {m.strip() for m in policy.allow_methods.split(",")}
    assert "authorization" in policy.allow_headers
    assert origin.exact.startswith("https://")  # set per overlay


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
