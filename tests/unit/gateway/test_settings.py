"""The gateway's settings, read from an explicit environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import GatewaySettings, bundled_descriptors
from kit.settings import SettingsError


def test_by_default_the_gateway_serves_the_bundled_contracts_on_loopback() -> None:
    loaded = GatewaySettings.from_env({})

    assert loaded.listen == "127.0.0.1:8080"
    assert loaded.metrics_listen == "127.0.0.1:9450"
    assert loaded.descriptors == bundled_descriptors()
    assert loaded.descriptors.exists()
    assert loaded.spiffe_id == "spiffe://stockmesh.local/ns/stockmesh/sa/gateway"
    assert loaded.redis_url is None


def test_a_peer_is_found_by_its_package_name_for_services_it_has_never_heard_of() -> None:
    loaded = GatewaySettings.from_env(
        {"STOCKMESH_WIDGET_ADDR": "10.0.0.7:7000", "STOCKMESH_STOCK_ADDR": "s:1"}
    )

    assert loaded.peer("widget") == "10.0.0.7:7000"
    assert loaded.peer("stock") == "s:1"
    assert loaded.peer("order") == "127.0.0.1:50055"
    with pytest.raises(SettingsError, match="STOCKMESH_GADGET_ADDR"):
        loaded.peer("gadget")


def test_origins_limits_and_the_metrics_port_are_read_from_the_environment(tmp_path: Path) -> None:
    loaded = GatewaySettings.from_env(
        {
            "STOCKMESH_HOME": str(tmp_path),
            "STOCKMESH_GATEWAY_CORS_ORIGINS": "https://a.test, https://b.test",
            "STOCKMESH_GATEWAY_RATE_PER_USER": "2.5",
            "STOCKMESH_GATEWAY_BURST_PER_USER": "5",
            "STOCKMESH_GATEWAY_METRICS_LISTEN": "",
        }
    )

    assert loaded.cors_origins == ("https://a.test", "https://b.test")
    assert (loaded.subject_rate, loaded.subject_burst) == (2.5, 5)
    assert loaded.metrics_listen is None
    assert loaded.tls_dir == (tmp_path / "tls").resolve()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STOCKMESH_GATEWAY_TIMEOUT_SECONDS", "soon"),
        ("STOCKMESH_GATEWAY_MAX_BODY_BYTES", "-1"),
        ("STOCKMESH_TLS_MODE", "plaintext"),
        ("STOCKMESH_LOG_FORMAT", "xml"),
    ],
)
def test_a_malformed_setting_refuses_to_start_naming_it(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.from_env({name: value})
