"""Contracts every generated stockmesh API keeps: HTTP rules, request ids, paging, field masks, packages."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import FieldDescriptor, FileDescriptor, MethodDescriptor

import stockmesh

SERVICES = [module.name for module in pkgutil.iter_modules(stockmesh.__path__) if module.ispkg]


def proto_modules() -> list[ModuleType]:
    modules = []
    for service in SERVICES:
        version = importlib.import_module(f"stockmesh.{service}.v1")
        modules += [
            importlib.import_module(f"{version.__name__}.{module.name}")
            for module in pkgutil.iter_modules(version.__path__)
            if module.name.endswith("_pb2")
        ]
    return modules


MODULES = proto_modules()
FILES: list[FileDescriptor] = [module.DESCRIPTOR for module in MODULES]
METHODS: list[MethodDescriptor] = [
    method for file in FILES for service in file.services_by_name.values() for method in service.methods
]


def http_rule(method: MethodDescriptor) -> http_pb2.HttpRule:
    rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
    return rule


def methods(prefix: str = "", *, writes: bool = False) -> list[MethodDescriptor]:
    return [
        m
        for m in METHODS
        if m.name.startswith(prefix) and (not writes or http_rule(m).WhichOneof("pattern") != "get")
    ]


def field(method: MethodDescriptor, name: str, *, response: bool = False) -> FieldDescriptor:
    message = method.output_type if response else method.input_type
    assert name in message.fields_by_name, f"{message.full_name} has no field {name}"
    return message.fields_by_name[name]


def ids(method: MethodDescriptor) -> str:
    return method.full_name


def test_every_service_directory_holds_generated_descriptors() -> None:
    assert "user" in SERVICES
    assert {file.package for file in FILES} == {f"stockmesh.{service}.v1" for service in SERVICES}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_package_is_named_stockmesh_service_v1(module: ModuleType) -> None:
    _, service, _, _ = module.__name__.split(".")

    assert module.DESCRIPTOR.package == f"stockmesh.{service}.v1"


@pytest.mark.parametrize("method", METHODS, ids=ids)
def test_every_rpc_has_an_http_rule(method: MethodDescriptor) -> None:
    options = method.GetOptions()

    assert options.HasExtension(annotations_pb2.http)
    assert http_rule(method).WhichOneof("pattern") in {"get", "post", "put", "patch", "delete", "custom"}


@pytest.mark.parametrize("method", methods(writes=True), ids=ids)
def test_every_rpc_that_is_not_a_get_takes_a_string_request_id_as_field_one(method: MethodDescriptor) -> None:
    request_id = field(method, "request_id")

    assert request_id.number == 1
    assert request_id.type == FieldDescriptor.TYPE_STRING
    assert not request_id.is_repeated


@pytest.mark.parametrize("method", methods("List"), ids=ids)
def test_every_list_rpc_pages_with_size_and_token(method: MethodDescriptor) -> None:
    assert field(method, "page_size").type == FieldDescriptor.TYPE_INT32
    assert field(method, "page_token").type == FieldDescriptor.TYPE_STRING
    assert field(method, "next_page_token", response=True).type == FieldDescriptor.TYPE_STRING


@pytest.mark.parametrize("method", methods("Update"), ids=ids)
def test_every_update_rpc_takes_a_field_mask(method: MethodDescriptor) -> None:
    update_mask = field(method, "update_mask")

    assert update_mask.message_type is not None
    assert update_mask.message_type.full_name == "google.protobuf.FieldMask"


def test_stock_levels_can_be_watched_as_a_server_stream() -> None:
    stock = pytest.importorskip("stockmesh.stock.v1.stock_pb2")

    streams = [
        method.name
        for service in stock.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if method.server_streaming
    ]

    assert streams
