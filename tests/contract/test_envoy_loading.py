"""Loading the Envoy bootstrap (gateway/envoy/envoy.yaml): it reads as YAML that
neither repeats a key nor merges one mapping into another, and loads into
Envoy's published API types down to every typed_config."""

from __future__ import annotations

import pytest
import yaml

from tests.support.envoy_config import packed, read
from tests.support.envoy_edge import Edge


def test_the_config_loads_into_envoys_api_types_down_to_every_typed_config(edge: Edge) -> None:
    unpacked = {type(message).__name__ for message in packed(edge.bootstrap)}
    typed = {"HttpConnectionManager", "Cors", "CorsPolicy", "JwtAuthentication", "LocalRateLimit"}
    typed |= {"GrpcJsonTranscoder", "Router", "FilterConfig", "StdoutAccessLog", "HttpProtocolOptions"}

    assert unpacked == typed


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "base: &b {a: 1}\nother:\n  <<: *b\n"])
def test_yaml_that_would_silently_overwrite_or_merge_is_refused(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        read(text)
