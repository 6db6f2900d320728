"""Envoy serves the Python gateway's routes: the descriptor set the transcoder
reads (built with buf by `ci/protos.py edge-context`, the edge image's build
context) holds exactly the Python gateway's HTTP rules for exactly the services
of the five packages, with their imports, comments and the error details the
services send."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from kit import services
from tests.support.envoy_config import ROOT
from tests.support.envoy_edge import TRANSCODER, Edge, bindings, proto_services


@pytest.fixture(scope="module")
def buf_descriptors(edge_context: Path) -> descriptor_pb2.FileDescriptorSet:
    """Envoy's descriptor set, as the pipeline puts it in the edge image."""
    return descriptor_pb2.FileDescriptorSet.FromString((edge_context / "stockmesh.binpb").read_bytes())


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
