"""JSON Schema ↔ the OpenAPI-style ``Schema`` Gemini's ``parameters`` accepts.

One approach towards Gemini, chosen because every Gemini model and Gemini-compatible
gateway takes it: a foreign tool's JSON Schema is REDUCED to ``parameters`` (not sent as
``parametersJsonSchema``, which older models and some gateways refuse). ``reduce``:

- keeps ``type`` (upper-cased), ``description``, ``title``, ``properties``, ``required``
  (only names that exist), ``items``, ``enum`` (strings), ``anyOf``, ``nullable``,
  ``minimum``/``maximum``, ``minItems``/``maxItems``, ``minLength``/``maxLength``,
  ``minProperties``/``maxProperties``, ``pattern``;
- inlines ``$ref`` to ``$defs``/``definitions`` (a recursive reference becomes a plain
  ``OBJECT``), merges ``allOf`` members, turns ``oneOf`` into ``anyOf``;
- ``type: [T, "null"]`` and a ``{"type": "null"}`` union member become ``nullable``;
  several non-null types become an ``anyOf``;
- ``const`` becomes a one-value string ``enum`` (other constants are described);
  ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/``maximum`` (the next
  whole number for an ``INTEGER``, the bound itself for a ``NUMBER``);
- non-string ``enum`` values, a ``format`` Gemini does not know for the type, and a
  ``default``, move into the description (Gemini answers 400 to them: "Unknown name
  default" on the Gemini API, "only enum and date-time" for string formats);
- drops everything else: ``$schema``, ``$id``, ``additionalProperties``,
  ``patternProperties``, ``propertyNames``, ``not``, ``if``/``then``/``else``,
  ``example(s)``…; an ``OBJECT`` with no properties is sent without ``properties``
  (Gemini refuses an empty map).

``to_json_schema`` goes the other way for a Gemini client's ``parameters``.
"""

from __future__ import annotations

import json

MAX_DEPTH = 24
_COPY = ("description", "title", "pattern")
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_FORMATS = {"STRING": {"enum", "date-time"}, "NUMBER": {"float", "double"},
            "INTEGER": {"int32", "int64"}}
_TYPES = {"string", "number", "integer", "boolean", "array", "object"}


def reduce(schema, root: dict | None = None) -> dict:
    """A JSON Schema → Gemini ``Schema`` (see the module docstring)."""
    root = schema if root is None and isinstance(schema, dict) else (root or {})
    return _reduce(schema, root, (), 0)


def _resolve(schema: dict, root: dict, seen: tuple) -> tuple[dict | None, tuple]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema, seen
    if ref in seen:
        return None, seen
    target: object = root
    for key in ref.lstrip("#/").split("/") if ref.startswith("#") else [None]:
        target = target.get(key) if isinstance(target, dict) and key is not None else None
    if not isinstance(target, dict):
        return {k: v for k, v in schema.items() if k != "$ref"}, seen
    merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return _resolve(merged, root, seen + (ref,))


def _merge_all_of(schema: dict) -> dict:
    members = [m for m in schema.get("allOf") or [] if isinstance(m, dict)]
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for member in members:
        for key, value in member.items():
            if key == "properties" and isinstance(value, dict):
                out["properties"] = {**(out.get("properties") or {}), **value}
            elif key == "required" and isinstance(value, list):
                out["required"] = list(dict.fromkeys([*(out.get("required") or []), *value]))
            else:
                out.setdefault(key, value)
    return out


def _note(out: dict, words: str) -> None:
    out["description"] = f"{out['description']} ({words})" if out.get("description") \
        else words


def _reduce(schema, root: dict, seen: tuple, depth: int) -> dict:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return {}
    schema, seen = _resolve(schema, root, seen)
    if schema is None:
        return {"type": "OBJECT", "description": "(recursive structure)"}
    if "allOf" in schema:
        schema = _merge_all_of(schema)
    out: dict = {k: schema[k] for k in _COPY if k in schema}
    for key in ("description", "title", "pattern"):
        if key in out and not isinstance(out[key], str):
            out.pop(key)
    for key in _COUNTS:
        if isinstance(schema.get(key), int) and not isinstance(schema.get(key), bool):
            out[key] = schema[key]
    nullable = False
    union = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(union, list):
        members = [m for m in union if isinstance(m, dict)]
        nullable = any(m.get("type") == "null" for m in members)
        members = [_reduce(m, root, seen, depth + 1) for m in members
                   if m.get("type") != "null"]
        if len(members) == 1:
            out = {**members[0], **out}
        elif members:
            out["anyOf"] = members
    kind = schema.get("type")
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        kinds = [k for k in kind if k in _TYPES]
        if len(kinds) > 1:
            out["anyOf"] = [{"type": k.upper()} for k in kinds]
            kind = None
        else:
            kind = kinds[0] if kinds else None
    if kind is None and "const" in schema:
        kind = _json_type(schema["const"])
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else \
            "string" if "enum" in schema else None
    if isinstance(kind, str) and kind in _TYPES:
        out["type"] = kind.upper()
    if nullable or schema.get("nullable") is True:
        out["nullable"] = True
    _values(schema, out)
    _bounds(schema, out)
    if out.get("type") == "OBJECT" or "properties" in schema:
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            out["properties"] = {str(k): _reduce(v, root, seen, depth + 1)
                                 for k, v in props.items()}
            required = [r for r in schema.get("required") or [] if r in out["properties"]]
            if required:
                out["required"] = required
    if "items" in schema:
        items = schema["items"]
        if isinstance(items, list):
            items = items[0] if items else {}
        out["items"] = _reduce(items, root, seen, depth + 1)
    if "default" in schema:
        _note(out, "default: " + json.dumps(schema["default"], ensure_ascii=False))
    fmt = schema.get("format")
    if isinstance(fmt, str):
        if fmt in _FORMATS.get(out.get("type", ""), ()):
            out["format"] = fmt
        else:
            _note(out, f"format: {fmt}")
    return out


def _json_type(value) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else None


def _values(schema: dict, out: dict) -> None:
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if not isinstance(values, list) or not values:
        return
    if all(isinstance(v, str) for v in values) and out.get("type") in (None, "STRING"):
        out["type"] = "STRING"
        out["enum"] = values
    else:
        words = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        _note(out, f"one of: {words}" if len(values) > 1 else f"must be {words}")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounds(schema: dict, out: dict) -> None:
    for key, strict, step in (("minimum", "exclusiveMinimum", 1),
                              ("maximum", "exclusiveMaximum", -1)):
        value = schema.get(key)
        if not _number(value):
            value = schema.get(strict)
            if not _number(value):
                continue
            # an integer above 0 is at least 1; a number can only keep the loose bound
            if out.get("type") == "INTEGER" and float(value).is_integer():
                value = int(value) + step
        out[key] = value


def to_json_schema(schema) -> dict:
    """A Gemini ``Schema`` (a Gemini client's ``parameters``) → JSON Schema."""
    if not isinstance(schema, dict):
        return {}
    out: dict = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {k: to_json_schema(v) for k, v in value.items()}
        elif key == "items":
            out["items"] = to_json_schema(value)
        elif key == "anyOf" and isinstance(value, list):
            out["anyOf"] = [to_json_schema(v) for v in value]
        elif key in ("nullable", "propertyOrdering") or (key == "format" and value == "enum"):
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
    return out
