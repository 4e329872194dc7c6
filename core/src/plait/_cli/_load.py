"""Load what ``plait run`` names on its command line: tools and the output type.

``--tool`` and ``--output-type`` take ``module:attribute`` or ``path/to/file.py:attribute``;
``--output-type`` also takes a JSON-schema file (``schema.json``), turned into a pydantic
model. Every failure is a ``ConfigError`` that says what was expected.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import create_model

from .._errors import ConfigError

__all__ = ["load_object", "load_output", "model_from_schema"]


def _import_file(path: Path) -> Any:
    name = f"plait_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def load_object(ref: str, *, what: str) -> Any:
    """Import ``module:attr`` or ``file.py:attr``."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise ConfigError(f"{what} {ref!r}: expected 'module:name' or 'path/to/file.py:name'")
    try:
        if target.endswith(".py"):
            module = _import_file(Path(target))
        else:
            module = importlib.import_module(target)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{what} {ref!r}: importing {target} failed: {exc}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{what} {ref!r}: {target} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}


def _type_of(schema: dict[str, Any], name: str) -> Any:
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    kind = schema.get("type")
    if isinstance(kind, list):
        members = tuple(_type_of({**schema, "type": k}, name) for k in kind)
        union: Any = members[0]
        for member in members[1:]:
            union = union | member
        return union
    if kind == "array":
        return list[_type_of(schema.get("items", {}), name)]  # type: ignore[misc]
    if kind == "object" or "properties" in schema:
        return model_from_schema(schema, name)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind is None and not schema:
        return Any
    raise ConfigError(f"output schema: {name}: unsupported schema {json.dumps(schema)[:80]}")


def model_from_schema(schema: dict[str, Any], name: str = "Output") -> Any:
    """A pydantic model for a JSON schema of an object (types, enums, arrays, nesting)."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        raise ConfigError(f"output schema {name}: expected an object with 'properties'")
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for key, sub in props.items():
        typ = _type_of(sub, f"{name}_{key}")
        fields[key] = (typ, ...) if key in required else (typ | None, None)
    title = str(schema.get("title") or name).replace(" ", "_")
    return create_model(title, **fields)


def load_output(ref: str | None) -> Any:
    """``None`` → ``str``; ``schema.json`` → a model; ``module:Type`` → that type."""
    if ref is None:
        return str
    if ref.endswith(".json"):
        path = Path(ref)
        try:
            schema = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"output type {ref}: cannot be read: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"output type {ref}: not valid JSON: {exc}") from None
        return model_from_schema(schema, path.stem.title().replace("-", "_") or "Output")
    return load_object(ref, what="output type")
