"""The contracts the gateway serves, read from a descriptor set file.

`make gen` writes every contract, its imports and its comments to
`gen/stockmesh/descriptors.binpb`. The gateway builds its own descriptor pool
from that file (never the process-wide default pool), so whatever set it is
given is what it serves: a new RPC with a `google.api.http` rule needs no
gateway change, only a regenerated set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    EnumValueDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message

# Where each kind of element sits in a FileDescriptorProto (descriptor.proto's
# field numbers), for reading SourceCodeInfo locations.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM, _ENUM_VALUE, _METHOD = 2, 3, 4, 2, 2

Element = (
    Descriptor | FieldDescriptor | EnumDescriptor | EnumValueDescriptor | ServiceDescriptor | MethodDescriptor
)


@dataclass(frozen=True)
class Binding:
    """One HTTP binding of a method: the rule itself or one of its additional_bindings."""

    method: MethodDescriptor
    http_method: str
    template: str
    body: str
    response_body: str


class Contracts:
    """A descriptor pool built from one FileDescriptorSet, with its comments."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.pool = descriptor_pool.DescriptorPool()
        self.files = list(files.file)
        for proto in self.files:
            self.pool.Add(proto)
        self._comments: dict[str, str] = {}
        for proto in self.files:
            self._index_comments(proto)
        self._classes: dict[str, type[Message]] = {}

    @classmethod
    def load(cls, path: Path) -> Contracts:
        return cls(descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()))

    def services(self) -> Iterator[ServiceDescriptor]:
        for proto in self.files:
            file = self.pool.FindFileByName(proto.name)
            yield from file.services_by_name.values()

    def bindings(self) -> Iterator[Binding]:
        """Every HTTP binding of every method that has a rule, in file order."""
        for service in self.services():
            for method in service.methods:
                rule = self.http_rule(method)
                if rule is None:
                    continue
                for one in (rule, *rule.additional_bindings):
                    kind = one.WhichOneof("pattern")
                    if kind is None:
                        continue
                    if kind == "custom":
                        verb, template = one.custom.kind.upper(), one.custom.path
                    else:
                        verb, template = kind.upper(), getattr(one, kind)
                    # additional_bindings inherit nothing: each names its own body.
                    yield Binding(method, verb, template, one.body, one.response_body)

    def http_rule(self, method: MethodDescriptor) -> http_pb2.HttpRule | None:
        options = descriptor_pb2.MethodOptions.FromString(method.GetOptions().SerializeToString())
        if not options.HasExtension(annotations_pb2.http):
            return None
        rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
        return rule

    def message_class(self, descriptor: Descriptor) -> type[Message]:
        found = self._classes.get(descriptor.full_name)
        if found is None:
            found = self._classes[descriptor.full_name] = message_factory.GetMessageClass(descriptor)
        return found

    def comment(self, element: Element) -> str:
        """The element's leading comment (or trailing, if it has none), tidied."""
        return self._comments.get(_key(element), "")

    def _index_comments(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        names = dict(_element_names(proto))
        for location in proto.source_code_info.location:
            name = names.get(tuple(location.path))
            text = location.leading_comments or location.trailing_comments
            if name is not None and text.strip():
                self._comments[name] = _tidy(text)


def behaviors(field: FieldDescriptor) -> frozenset[int]:
    """The field's `google.api.field_behavior` values.

    The gateway's pool is not the default pool, so its options carry the
    extension as unknown bytes: re-parsing them where `field_behavior_pb2`
    is registered reads it.
    """
    options = descriptor_pb2.FieldOptions.FromString(field.GetOptions().SerializeToString())
    return frozenset(options.Extensions[field_behavior_pb2.field_behavior])


def is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return message is not None and bool(message.GetOptions().map_entry)


def _key(element: Element) -> str:
    if isinstance(element, FieldDescriptor | EnumValueDescriptor | MethodDescriptor):
        parent: Any = (
            element.containing_type
            if isinstance(element, FieldDescriptor)
            else element.type
            if isinstance(element, EnumValueDescriptor)
            else element.containing_service
        )
        return f"{parent.full_name}#{element.name}"
    return element.full_name


def _element_names(proto: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[tuple[int, ...], str]]:
    prefix = f"{proto.package}." if proto.package else ""

    def enum(path: tuple[int, ...], full: str, e: descriptor_pb2.EnumDescriptorProto) -> Iterator[Any]:
        yield path, full
        for k, value in enumerate(e.value):
            yield (*path, _ENUM_VALUE, k), f"{full}#{value.name}"

    def message(path: tuple[int, ...], full: str, m: descriptor_pb2.DescriptorProto) -> Iterator[Any]:
        yield path, full
        for k, f in enumerate(m.field):
            yield (*path, _FIELD, k), f"{full}#{f.name}"
        for k, nested in enumerate(m.nested_type):
            yield from message((*path, _NESTED, k), f"{full}.{nested.name}", nested)
        for k, e in enumerate(m.enum_type):
            yield from enum((*path, _NESTED_ENUM, k), f"{full}.{e.name}", e)

    for i, m in enumerate(proto.message_type):
        yield from message((_MESSAGE, i), prefix + m.name, m)
    for i, e in enumerate(proto.enum_type):
        yield from enum((_ENUM, i), prefix + e.name, e)
    for i, s in enumerate(proto.service):
        yield (_SERVICE, i), prefix + s.name
        for k, method in enumerate(s.method):
            yield (_SERVICE, i, _METHOD, k), f"{prefix}{s.name}#{method.name}"


def _tidy(text: str) -> str:
    lines = [line[1:] if line.startswith(" ") else line for line in text.strip("\n").splitlines()]
    return "\n".join(lines).strip()
