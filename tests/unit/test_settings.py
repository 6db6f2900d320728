"""Specifications of settings read from an explicit environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit import services
from kit.mesh.files import DEFAULT_DIR
from kit.settings import Settings, SettingsError, count, seconds

SERVICES = services.available()

SECONDS = (
    "STOCKMESH_HEALTH_PROBE_SECONDS",
    "STOCKMESH_GRACE_SECONDS",
    "STOCKMESH_TOKEN_LEEWAY_SECONDS",
)


def settings(home: Path, service: str = "user", **environ: str) -> Settings:
    return Settings.from_env(service, {"STOCKMESH_HOME": str(home), **environ})


def test_by_default_a_service_keeps_its_sqlite_file_under_the_home_directory(tmp_path: Path) -> None:
    home = tmp_path.resolve()

    loaded = settings(tmp_path, "stock")

    assert loaded.home == home
    assert loaded.database_url == f"sqlite:///{home / 'data' / 'stock.db'}"


def test_by_default_calls_use_mtls_with_certificates_under_the_home_directory(tmp_path: Path) -> None:
    loaded = settings(tmp_path)

    assert loaded.tls_mode == "mtls"
    assert loaded.tls_dir == tmp_path.resolve() / "tls"


def test_by_default_each_service_listens_on_its_own_loopback_port(tmp_path: Path) -> None:
    listens = {service: settings(tmp_path, service).grpc_listen for service in SERVICES}

    assert all(address.startswith("127.0.0.1:") for address in listens.values())
    assert len(set(listens.values())) == len(SERVICES)


def test_by_default_every_peer_is_reached_where_it_listens(tmp_path: Path) -> None:
    caller = settings(tmp_path, "order")

    assert {s: caller.peer(s) for s in SERVICES} == {s: settings(tmp_path, s).grpc_listen for s in SERVICES}


def test_by_default_metrics_listen_on_loopback_and_an_empty_value_turns_them_off(tmp_path: Path) -> None:
    assert settings(tmp_path).metrics_listen == "127.0.0.1:9451"
    assert settings(tmp_path, STOCKMESH_METRICS_LISTEN="").metrics_listen is None


def test_database_url_overrides_the_sqlite_default(tmp_path: Path) -> None:
    url = "postgresql+psycopg://stockmesh@db:5432/user"

    assert settings(tmp_path, DATABASE_URL=url).database_url == url


def test_mesh_mode_is_accepted(tmp_path: Path) -> None:
    assert settings(tmp_path, STOCKMESH_TLS_MODE="mesh").tls_mode == "mesh"


@pytest.mark.parametrize("mode", ["tls", "MTLS", "none", ""])
def test_a_tls_mode_other_than_mtls_or_mesh_is_refused(tmp_path: Path, mode: str) -> None:
    with pytest.raises(SettingsError, match="STOCKMESH_TLS_MODE"):
        settings(tmp_path, STOCKMESH_TLS_MODE=mode)


@pytest.mark.parametrize("variable", SECONDS)
@pytest.mark.parametrize("value", ["soon", "5s", "1,5"])
def test_non_numeric_seconds_are_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings(tmp_path, **{variable: value})


@pytest.mark.parametrize("variable", SECONDS[:2])  # the token leeway may be 0
@pytest.mark.parametrize("value", ["0", "-1", "-0.5"])
def test_non_positive_seconds_are_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings(tmp_path, **{variable: value})


@pytest.mark.parametrize("variable", SECONDS)
def test_nan_seconds_are_refused_naming_the_variable(tmp_path: Path, variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings(tmp_path, **{variable: "nan"})


def test_the_token_leeway_may_be_zero_but_not_negative(tmp_path: Path) -> None:
    assert settings(tmp_path, STOCKMESH_TOKEN_LEEWAY_SECONDS="0").token_leeway_seconds == 0.0
    with pytest.raises(SettingsError, match="STOCKMESH_TOKEN_LEEWAY_SECONDS"):
        settings(tmp_path, STOCKMESH_TOKEN_LEEWAY_SECONDS="-1")


def test_fractional_seconds_are_read(tmp_path: Path) -> None:
    assert settings(tmp_path, STOCKMESH_GRACE_SECONDS="2.5").grace_seconds == 2.5


def test_the_mesh_policy_comes_from_the_repository_unless_a_folder_is_named(tmp_path: Path) -> None:
    assert settings(tmp_path).mesh_dir == DEFAULT_DIR
    assert settings(tmp_path, STOCKMESH_MESH_DIR=str(tmp_path)).mesh_dir == tmp_path.resolve()


def test_a_workload_carries_the_labels_the_mesh_selects_on(tmp_path: Path) -> None:
    assert settings(tmp_path, "stock").labels == {"app": "svc-stock", "version": "v1"}
    assert settings(tmp_path, "stock", STOCKMESH_VERSION="v2").labels["version"] == "v2"


def test_an_unknown_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown service 'billing'"):
        settings(tmp_path, "billing")


def test_a_peer_without_an_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="billing"):
        settings(tmp_path).peer("billing")


def test_the_spiffe_id_names_the_trust_domain_namespace_and_service_account(tmp_path: Path) -> None:
    assert settings(tmp_path, "catalog").spiffe_id == "spiffe://stockmesh.local/ns/stockmesh/sa/svc-catalog"


def test_the_spiffe_id_follows_the_configured_trust_domain_and_namespace(tmp_path: Path) -> None:
    loaded = settings(tmp_path, "order", STOCKMESH_TRUST_DOMAIN="prod.example", STOCKMESH_NAMESPACE="inv")

    assert loaded.spiffe_id == "spiffe://prod.example/ns/inv/sa/svc-order"


def test_a_service_specific_duration_is_read_from_its_own_variable(tmp_path: Path) -> None:
    loaded = settings(tmp_path, STOCKMESH_USER_ACCESS_TOKEN_SECONDS="600")

    assert seconds(loaded, "ACCESS_TOKEN_SECONDS", 900.0) == 600.0


def test_a_service_specific_duration_defaults_when_unset(tmp_path: Path) -> None:
    assert seconds(settings(tmp_path), "ACCESS_TOKEN_SECONDS", 900.0) == 900.0


def test_a_service_ignores_another_services_durations(tmp_path: Path) -> None:
    loaded = settings(tmp_path, STOCKMESH_CATALOG_ACCESS_TOKEN_SECONDS="600")

    assert seconds(loaded, "ACCESS_TOKEN_SECONDS", 900.0) == 900.0


@pytest.mark.parametrize("value", ["later", "0", "-60"])
def test_a_bad_service_specific_duration_is_refused_naming_the_variable(tmp_path: Path, value: str) -> None:
    loaded = settings(tmp_path, STOCKMESH_USER_REFRESH_TOKEN_SECONDS=value)

    with pytest.raises(SettingsError, match="STOCKMESH_USER_REFRESH_TOKEN_SECONDS"):
        seconds(loaded, "REFRESH_TOKEN_SECONDS", 86400.0)


def test_a_service_specific_count_is_a_whole_number_from_one(tmp_path: Path) -> None:
    given = settings(tmp_path, "stock", STOCKMESH_STOCK_WATCH_QUEUE_SIZE="64")
    unset = settings(tmp_path, "stock")

    assert count(given, "WATCH_QUEUE_SIZE", 1000) == 64
    assert count(unset, "WATCH_QUEUE_SIZE", 1000) == 1000
    for bad in ("0", "-3", "2.5", "many"):
        with pytest.raises(SettingsError, match="STOCKMESH_STOCK_WATCH_QUEUE_SIZE"):
            count(settings(tmp_path, "stock", STOCKMESH_STOCK_WATCH_QUEUE_SIZE=bad), "WATCH_QUEUE_SIZE", 1)


def test_the_database_pool_is_the_services_own_unless_set(tmp_path: Path) -> None:
    assert settings(tmp_path, "stock").pool_size(20) == 20
    sized = Settings.from_env("stock", {"STOCKMESH_HOME": str(tmp_path), "STOCKMESH_DATABASE_POOL_SIZE": "3"})
    assert sized.pool_size(20) == 3
    with pytest.raises(SettingsError):
        Settings.from_env("stock", {"STOCKMESH_HOME": str(tmp_path), "STOCKMESH_DATABASE_POOL_SIZE": "0"})
