"""The runtime learns the services from their registration (entry points),
never by building a package name: the layer check, which forbids kit to
import a service, then has no way around it."""

from __future__ import annotations

import re
from pathlib import Path

from kit import services

KIT = Path(__file__).resolve().parents[2] / "kit"
BY_NAME = re.compile(r"""(import_module|find_spec|__import__)\(\s*f?["']svc_""")


def test_every_service_package_is_registered_with_its_app_and_migrations() -> None:
    names = services.available()

    assert names == ["user", "catalog", "stock", "procure", "order"]
    for name in names:
        assert callable(services.app(name).build)
        assert services.migrations(name) == f"{services.package(name)}:migrations"


def test_each_service_declares_its_default_ports_and_no_two_share_one() -> None:
    declared = [port for name in services.available() for port in services.ports(name)]

    assert services.ports("user") == (50051, 9451)
    assert len(set(declared)) == len(declared)


def test_kit_names_no_service() -> None:
    """Not as a package and not as a registered name: what a service is and
    where it listens comes from its registration."""
    names = re.compile(rf"""["'](svc_\w+|{"|".join(services.available())})["']""")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(KIT.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if names.search(line)
    ]

    assert found == []


def test_kit_never_imports_a_service_by_building_its_name() -> None:
    found = [
        f"{path.name}:{number}"
        for path in sorted(KIT.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BY_NAME.search(line)
    ]

    assert found == []
