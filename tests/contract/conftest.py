"""Fixtures of the contract tests: the Envoy edge, loaded from gateway/envoy/envoy.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.envoy_edge import Edge


@pytest.fixture(scope="module")
def edge() -> Edge:
    # Imported here, so that the contract tests that need no Envoy do not load its API types.
    from tests.support.envoy_config import CONFIG, load, read
    from tests.support.envoy_edge import Edge

    return Edge(load(read(CONFIG.read_text())))
