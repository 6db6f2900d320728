"""Paths and their parameters: a template spelled out segment by segment, and the query
parameters of every request field the path and the body leave free."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.descriptors import behaviors
from gateway.routes import Route, RouteTable
from gateway.schemas import REQUEST_ID, REQUIRED, Schema, SchemaSet, real_oneof, scalar_like
from gateway.templates import PathTemplate, TemplateError, Variable

# One path segment; "." and ".." are left out because clients resolve them away before sending.
_SEGMENT = r"^(?!\.\.?$)[^/]+$"


_WILDCARDS = ("*", "**")


def _segments(template: PathTemplate) -> list[tuple[str, Variable | None]] | None:
    """The template's segments, each with the variable it belongs to (its pattern spelled out), or None
    for a template with a wildcard outside any variable, which binds nothing and OpenAPI cannot name."""
    try:
        text = template.openapi_path()
    except TemplateError:
        return None
    if template.verb:
        text = text[: -len(template.verb) - 1]
    variables = {".".join(variable.field_path): variable for variable in template.variables}
    segments: list[tuple[str, Variable | None]] = []
    for part in text[1:].split("/"):
        variable = variables.get(part[1:-1]) if part.startswith("{") and part.endswith("}") else None
        if variable is None:
            segments.append((part, None))
        else:
            segments += [(piece, variable) for piece in variable.pattern.split("/")]
    return segments


def of_route(
    route: Route, shapes: dict[str, list[str]], table: RouteTable
) -> tuple[str, list[Schema]] | None:
    """The OpenAPI path of a route and its path parameters, one per wildcard segment."""
    template = route.template
    segments = _segments(template)
    if segments is None:
        return None
    names: list[str] = []
    for index, (piece, variable) in enumerate(segments):
        if piece in _WILDCARDS and variable is not None:
            name = _segment_name(segments, index, variable)
            while name in names:
                name += "_"
            names.append(name)
    shape = "/" + "/".join("{}" if piece in _WILDCARDS else piece for piece, _ in segments)
    shape += f":{template.verb}" if template.verb else ""
    # Paths of one shape are one path to OpenAPI: all take the parameter names of the first.
    names = shapes.setdefault(shape, names)
    path = shape
    for name in names:
        path = path.replace("{}", "{" + name + "}", 1)
    named = iter(names)
    spelled: list[tuple[str, str, Variable]] = []  # (segment as the path spells it, segment, variable)
    for piece, variable in segments:
        if variable is not None:
            spelled.append(("{" + next(named) + "}" if piece in _WILDCARDS else piece, piece, variable))
    parameters = []
    for text, piece, variable in spelled:
        if piece in _WILDCARDS:
            value = "/".join(shown for shown, _, owner in spelled if owner is variable)
            parameters.append(_path_parameter(route, text[1:-1], piece, variable, value, table))
    return path, parameters


def _segment_name(segments: list[tuple[str, Variable | None]], index: int, variable: Variable) -> str:
    previous, owner = segments[index - 1] if index else ("", None)
    if owner is not variable or previous in _WILDCARDS:
        return ".".join(variable.field_path)
    # The collection before the segment, singular: warehouses/* -> {warehouse}.
    for plural, singular in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if previous.endswith(plural):
            return previous[: -len(plural)] + singular
    if previous.endswith("s") and not previous.endswith("ss"):
        return previous[:-1]
    return previous + "Id"


def _path_parameter(
    route: Route, name: str, piece: str, variable: Variable, value: str, table: RouteTable
) -> Schema:
    field_path = ".".join(variable.field_path)
    if piece == "**":
        schema: Schema = {"type": "string", "minLength": 1}
        shape = "The rest of the path, '/' included: send each '/' unescaped."
    else:
        schema = {"type": "string", "pattern": _SEGMENT}
        shape = "One path segment (no '/'); percent-encoded characters are decoded."
    where = f"The `{{{name}}}` of" if value.count("{") > 1 else "Fills"
    lines = [f"{where} `{field_path}` = `{value}` (pattern `{variable.pattern}`). {shape}"]
    comment = table.contracts.comment(_field_at(route.method.input_type, variable.field_path))
    if comment:
        lines.append(comment)
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "\n\n".join(lines),
        "schema": schema,
        "x-stockmesh-field": field_path,
        "x-stockmesh-pattern": variable.pattern,
    }


def _field_at(descriptor: Descriptor, path: tuple[str, ...]) -> FieldDescriptor:
    field = descriptor.fields_by_name[path[0]]
    for name in path[1:]:
        assert field.message_type is not None  # the route table checked the path
        field = field.message_type.fields_by_name[name]
    return field


def query_parameters(
    schemas: SchemaSet,
    descriptor: Descriptor,
    names: tuple[str, ...],
    json_names: tuple[str, ...],
    bound: set[tuple[str, ...]],
    *,
    required: bool,
    stack: tuple[str, ...],
) -> Iterator[Schema]:
    """Query parameters for the fields the path and body leave, flattened through singular messages."""
    for field in descriptor.fields:
        path = (*names, field.name)
        if any(path[: len(other)] == other for other in bound):
            continue  # set by the path or the body; the gateway refuses it in the query
        spelled = (*json_names, field.json_name)
        needed = (
            required
            and REQUIRED in behaviors(field)
            and real_oneof(field) is None
            and field.name != REQUEST_ID
        )
        message = field.message_type
        if not scalar_like(field):
            assert message is not None
            walkable = not (field.is_repeated or message.full_name.startswith("google.protobuf."))
            if walkable and message.full_name not in stack:
                yield from query_parameters(
                    schemas, message, path, spelled, bound, required=needed, stack=(*stack, message.full_name)
                )
            continue
        described = schemas.field(field)
        parameter: Schema = {"name": ".".join(spelled), "in": "query"}
        if needed:
            parameter["required"] = True
        description = described.pop("description", "")
        if description:
            parameter["description"] = description
        if described.pop("deprecated", False):
            parameter["deprecated"] = True
        described.pop("readOnly", None)
        described.pop("writeOnly", None)
        if field.is_repeated:
            parameter |= {"style": "form", "explode": True}
        parameter["schema"] = described
        yield parameter
