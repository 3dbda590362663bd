"""Walking and editing JSON values by path, for the decoders' mutation tests."""

from __future__ import annotations


def paths(value, path=()):
    """Every path into ``value`` (dict keys and list indexes), the root included."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*path, i))


def set_at(value, path, new):
    """``value`` with the item at ``path`` replaced by ``new`` (in place; the root returned)."""
    if not path:
        return new
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return value
