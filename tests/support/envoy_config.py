"""Reading gateway/envoy/envoy.yaml as Envoy would: a strict YAML reader, and a
loader into Envoy's published API types (the envoy-data-plane package).

That library refuses an unknown field name by itself, but it is lax about JSON
types and name spellings that Envoy's parser refuses (a string where a list
goes is split into characters, "yes" is a bool, 1.5 an integer, any casing of a
name is snake-cased), so a strict walk of the same types runs first: every key
must be the proto field name or its lowerCamelCase JSON name, every value of
its field's JSON type, every `@type` a known message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import itertools
import keyword
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

with warnings.catch_warnings():
    # The library's generated classes use a pydantic validator form deprecated
    # since pydantic 2.12: harmless here, and the suite makes warnings errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    import betterproto2
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    from envoy_data_plane.google import protobuf as wkt
    from envoy_data_plane.message_pool import default_message_pool

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gateway" / "envoy" / "envoy.yaml"


class ConfigError(ValueError):
    """Something Envoy refuses: an unknown field or @type, a value of the wrong JSON type."""


class StrictLoader(yaml.SafeLoader):
    """YAML without silent overwrites: a key given twice in one mapping is an
    error, and so is a `<<` merge key, which Envoy's YAML reader is not
    documented to apply."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise yaml.constructor.ConstructorError(None, None, "merge key (<<)", key_node.start_mark)
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read(text: str) -> dict[str, Any]:
    config = yaml.load(text, Loader=StrictLoader)  # a SafeLoader: plain data only
    assert isinstance(config, dict)
    return config


def load(config: dict[str, Any]) -> Bootstrap:
    """The bootstrap in Envoy's API types, or an error naming what Envoy would refuse."""
    check(config, Bootstrap, "bootstrap")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the library warns on deprecated fields
        bootstrap = Bootstrap.from_dict(config)
        list(packed(bootstrap))  # each typed_config decodes back into its own type
        bytes(bootstrap)
    return bootstrap


def packed(message: betterproto2.Message) -> Iterator[betterproto2.Message]:
    """The content of every Any inside `message`, unpacked, at any depth."""
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, wkt.Any):
                inner = item.unpack()
                yield inner
                yield from packed(inner)
            elif isinstance(item, betterproto2.Message):
                yield from packed(item)


# Messages whose proto3 JSON form is not an object, by JSON kind.
STRINGS = {"Duration", "Timestamp", "FieldMask"}
WRAPPERS = {f"{kind}Value" for kind in ("Bool", "String", "Bytes", "Int32", "Int64", "UInt32", "UInt64")}
WRAPPERS |= {"FloatValue", "DoubleValue"}
NOT_OBJECTS = STRINGS | WRAPPERS | {"Struct", "ListValue", "Value"}
DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
INTEGER = re.compile(r"-?\d+")


def check(value: Any, cls: type, where: str) -> None:
    """Raise ConfigError unless `value` is the proto3 JSON form of message `cls`."""
    name = cls.__name__ if cls.__module__ == wkt.__name__ else ""
    if name == "Any":
        _check_any(value, where)
    elif name in STRINGS:
        if not isinstance(value, str) or (name == "Duration" and not DURATION.fullmatch(value)):
            raise ConfigError(f"{where}: {value!r} is not a {name} string such as '1.5s'")
    elif name in WRAPPERS:
        meta = dataclasses.fields(cls)[0].metadata["betterproto"]
        _check_value(value, meta, type(None), where)
    elif name in ("Struct", "ListValue", "Value"):
        kind = {"Struct": dict, "ListValue": list, "Value": object}[name]
        _expect(value, kind, where)
    else:
        _check_message(value, cls, where)


def _check_message(value: Any, cls: type, where: str) -> None:
    _expect(value, dict, where)
    names = {}
    for field in dataclasses.fields(cls):
        proto = field.name[:-1] if keyword.iskeyword(field.name[:-1]) else field.name
        first, *rest = proto.split("_")
        names[proto] = names[first + "".join(part[:1].upper() + part[1:] for part in rest)] = field
    seen: set[str] = set()
    for key, item in value.items():
        if key not in names:
            raise ConfigError(f"{where}: {cls.__name__} has no field {key!r}")
        field = names[key]
        if field.name in seen:
            raise ConfigError(f"{where}: {field.name} is set twice")
        seen.add(field.name)
        if item is None:
            continue  # JSON null: the field's default
        meta, at = field.metadata["betterproto"], f"{where}.{key}"
        classes = cls._betterproto.cls_by_field  # type: ignore[attr-defined]
        if meta.proto_type == betterproto2.TYPE_MAP:
            _expect(item, dict, at)
            for entry, one in item.items():
                _check_value(one, meta.map_meta[1], classes[f"{field.name}.value"], f"{at}[{entry!r}]")
        elif meta.repeated:
            _expect(item, list, at)
            for i, one in enumerate(item):
                _check_value(one, meta, classes[field.name], f"{at}[{i}]")
        else:
            _check_value(item, meta, classes[field.name], at)


def _check_value(value: Any, meta: Any, field_cls: type, where: str) -> None:
    kind = meta.proto_type
    if kind == betterproto2.TYPE_MESSAGE:
        check(value, meta.unwrap() if meta.unwrap else field_cls, where)
    elif kind == betterproto2.TYPE_BOOL:
        _expect(value, bool, where)
    elif kind in (betterproto2.TYPE_STRING, betterproto2.TYPE_BYTES):
        _expect(value, str, where)
    elif kind == betterproto2.TYPE_ENUM:
        if not isinstance(value, str) and not _is_integer(value):
            raise ConfigError(f"{where}: {value!r} is neither an enum value's name nor its number")
    elif kind in betterproto2.ALL_INT_TYPES:
        if not _is_integer(value) and not (isinstance(value, str) and INTEGER.fullmatch(value)):
            raise ConfigError(f"{where}: {value!r} is not an integer")
    elif not (isinstance(value, int | float) and not isinstance(value, bool)):
        raise ConfigError(f"{where}: {value!r} is not a number")


def _check_any(value: Any, where: str) -> None:
    _expect(value, dict, where)
    type_url = value.get("@type")
    if not isinstance(type_url, str):
        raise ConfigError(f"{where}: a typed config needs an @type")
    cls = message_type(type_url)
    rest = {key: item for key, item in value.items() if key != "@type"}
    if cls.__module__ == wkt.__name__ and cls.__name__ in NOT_OBJECTS:
        check(rest.get("value"), cls, f"{where}.value")
    else:
        check(rest, cls, f"{where}<{cls.__name__}>")


def message_type(type_url: str) -> type:
    """The API type of an @type, importing its package (which registers it) on first use."""
    if type_url not in default_message_pool.url_to_type:
        parts = type_url.rsplit("/", 1)[-1].split(".")
        package = ".".join(itertools.takewhile(lambda part: not part[:1].isupper(), parts))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # as for the imports above
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"envoy_data_plane.{package}")
    if type_url not in default_message_pool.url_to_type:
        raise ConfigError(f"unknown @type {type_url!r}")
    return default_message_pool.url_to_type[type_url]


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")
