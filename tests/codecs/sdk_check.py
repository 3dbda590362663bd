"""A strict checker of request bodies against the official SDKs' TypedDict params.

``check(value, SomeParamsTypedDict)`` returns a list of problems (empty when the body is
valid): unknown keys at any depth, missing required keys, wrong types, values outside a
``Literal``. Unions (e.g. the content-block union) pass when one member fits. Typing
constructs the SDKs use are understood: TypedDict, Required/NotRequired, Optional/Union,
Literal, Annotated, Iterable/Sequence/List/SequenceNotStr, Dict, object, and the str/int/
float/bool scalars. ``allow`` names extra top-level keys a test accepts on purpose.
"""

from __future__ import annotations

import collections.abc
import functools
import typing

import typing_extensions as te

_SCALARS = {str: str, int: int, float: (int, float), bool: bool}


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and (typing.is_typeddict(tp) or te.is_typeddict(tp))


@functools.cache
def _hints(tp) -> dict:
    return typing.get_type_hints(tp, include_extras=True)


def _unwrap(tp):
    origin = typing.get_origin(tp)
    while origin in (te.Required, te.NotRequired, te.Annotated, typing.Annotated,
                     getattr(typing, "Required", None), getattr(typing, "NotRequired", None)):
        tp = typing.get_args(tp)[0]
        origin = typing.get_origin(tp)
    return tp


def check(value, tp, path: str = "$", allow: tuple[str, ...] = ()) -> list[str]:
    tp = _unwrap(tp)
    if tp is object or tp is typing.Any:
        return []
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        best: list[str] | None = None
        best_score = 0
        for option in args:
            problems = check(value, option, path)
            if not problems:
                return []
            # a mismatch of the value itself (wrong type, wrong discriminator) scores worst
            score = len(problems) + 1000 * sum(
                1 for p in problems if p.startswith(f"{path}:") or p.startswith(f"{path}.type:"))
            if best is None or score < best_score:
                best, best_score = problems, score
        return best or [f"{path}: no union member fits"]
    if origin in (typing.Literal, te.Literal):
        return [] if value in args else [f"{path}: {value!r} not in {args}"]
    if _is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: expected object for {tp.__name__}"]
        hints = _hints(tp)
        problems = [f"{path}.{k}: unknown key for {tp.__name__}" for k in value
                    if k not in hints and k not in allow]
        problems += [f"{path}.{k}: required by {tp.__name__}" for k in tp.__required_keys__
                     if k not in value]
        for key, item in value.items():
            if key in hints:
                problems += check(item, hints[key], f"{path}.{key}")
        return problems
    if origin in (dict, collections.abc.Mapping, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        return [p for k, v in value.items() for p in check(v, args[1], f"{path}.{k}")] \
            if args else []
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence, typing.List) or (  # noqa: UP006
            origin is None and getattr(tp, "__name__", "") == "SequenceNotStr") or \
            getattr(origin, "__name__", "") == "SequenceNotStr":
        if not isinstance(value, list):
            return [f"{path}: expected array"]
        item = args[0] if args else object
        return [p for i, v in enumerate(value) for p in check(v, item, f"{path}[{i}]")]
    if tp in _SCALARS:
        ok = isinstance(value, _SCALARS[tp]) and not (tp is not bool and isinstance(value, bool))
        return [] if ok else [f"{path}: expected {tp.__name__}, got {type(value).__name__}"]
    if isinstance(tp, type) and isinstance(value, tp):
        return []
    return [f"{path}: cannot check against {tp!r}"]
