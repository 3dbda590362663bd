"""Walking and editing JSON values by path, for the decoders' mutation tests."""

from __future__ import annotations

import copy

from hypothesis import strategies as st


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


def mutated(value, data, values: st.SearchStrategy):
    """A copy of ``value`` with one to three items (the root among them) replaced by values
    drawn from ``values``; ``data`` is hypothesis's ``st.data()``."""
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths(value))))  # of the value as edited so far
        value = set_at(value, path, data.draw(values))
    return value
