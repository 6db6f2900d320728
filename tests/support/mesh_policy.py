"""The mesh's policy files for tests: an edited copy of mesh/istio (for a
service process's STOCKMESH_MESH_DIR), and calls made as a given workload."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf.message import Message

from kit import status
from kit.mesh.files import DEFAULT_DIR
from tests import harness

Document = dict[str, Any]


def edited_policy(directory: Path, file: str, edit: Callable[[list[Document]], None]) -> Path:
    """A copy of mesh/istio in `directory`, with `edit` applied to the
    documents of `file` (e.g. "services/svc-stock.yaml")."""
    copy = directory / "istio"
    shutil.copytree(DEFAULT_DIR, copy)
    path = copy / file
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    edit(documents)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return copy


def of_kind(documents: list[Document], kind: str) -> Document:
    return next(d for d in documents if d["kind"] == kind)


def call_as(
    service: harness.ServiceProcess,
    account: str,
    path: str,
    request: Message,
    response: type[Message],
    metadata: list[tuple[str, str]] | None = None,
) -> tuple[grpc.StatusCode, str]:
    """Call `path` of `service` as the workload `account`: the status it ends
    with, and the reason of a refusal."""
    with service.channel(account) as channel:
        stub = channel.unary_unary(
            path,
            request_serializer=type(request).SerializeToString,
            response_deserializer=response.FromString,
        )
        try:
            stub(request, metadata=metadata or [], timeout=10)
        except grpc.RpcError as exc:
            refusal = status.details_of(exc)
            return refusal.code, refusal.reason
        return grpc.StatusCode.OK, ""
