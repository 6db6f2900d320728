"""Broken copies of the Envoy bootstrap are refused by the loader the config passes:
each breakage is refused either by the strict walk (a misspelt field, a value of
the wrong JSON type, a name in neither spelling, an unknown @type) or by the
library itself (a oneof given twice, a deprecated field), and the strict walk
refuses what the library alone would let through."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.envoy_config import CONFIG, ConfigError, load, message_type, read
from tests.support.envoy_edge import TRANSCODER

with warnings.catch_warnings():
    # As in tests.support.envoy_config: the library's classes warn on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap


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
