"""The OpenAPI documentation of request bodies that the framework does not decode itself.

The ingest endpoints read their body raw: a batch is validated event by event (a bad
event is refused alone, not the whole batch), so the framework cannot derive the body's
schema from the handler's signature. msgspec writes the JSON Schema of the Structs that
decode the events; this module only re-types that schema as the framework's `Schema`
objects (references inlined) and hands it to the operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

_SCHEMA_FIELDS = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}


def _schema(node: Mapping[str, Any], components: Mapping[str, Any]) -> Schema:
    """A JSON Schema node as the framework's Schema, references inlined."""
    if "$ref" in node:
        return _schema(components[node["$ref"]], components)
    values: dict[str, Any] = {}
    for key, raw in node.items():
        value: Any = raw
        if key == "properties":
            value = {name: _schema(v, components) for name, v in raw.items()}
        elif key in {"items", "additionalProperties"} and isinstance(raw, Mapping):
            value = _schema(raw, components)
        elif key in {"anyOf", "oneOf", "allOf"}:
            value = [_schema(v, components) for v in raw]
        elif key == "type":
            value = OpenAPIType(raw) if isinstance(raw, str) else [OpenAPIType(v) for v in raw]
        elif key == "format":
            value = OpenAPIFormat(raw)
        values[_SCHEMA_FIELDS[key]] = value
    return Schema(**values)


def one_or_batch(single: type[msgspec.Struct], batch: type[msgspec.Struct],
                 description: str) -> type[Operation]:
    """An operation class documenting a JSON body that is one `single` or a `batch`."""
    (one, many), components = msgspec.json.schema_components([single, batch],
                                                             ref_template="{name}")
    body = RequestBody(
        content={"application/json": OpenAPIMediaType(schema=Schema(
            one_of=[_schema(one, components), _schema(many, components)]))},
        description=description,
        required=True,
    )

    @dataclasses.dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return RawBodyOperation
