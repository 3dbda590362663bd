"""A client request in flight: its parsed body, who sent it, and its hub form on demand.

The depth check lives here because only the hub decode (and the count estimate) recurse
over the body; see ``Call.check_depth``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError
from byecore_cli.hub import Request

MAX_DEPTH = 128  # real bodies (tool schemas included) nest a few dozen levels at most
TOO_DEEP = (f"the body nests JSON deeper than {MAX_DEPTH} levels; "
            "no request byecore serves needs that")

@dataclass
class Call:
    """A client request in flight and what is known about it."""

    inbound: str
    raw: bytes
    body: dict
    model: str
    stream: bool
    client: str
    headers: object
    started: float = field(default_factory=time.monotonic)
    hub: Request | None = None  # the client's request in hub terms, decoded on first need

    def hub_request(self) -> Request:
        if self.hub is None:
            self.check_depth()
            self.hub = codecs.get(self.inbound).decode_request(self.body)
        return self.hub

    def check_depth(self) -> None:
        """``CodecError`` (the client's 400) for a body nested deeper than ``MAX_DEPTH``.

        Asked only where byecore's own code recurses over the body (the codecs, the
        count estimate): the pass-through sends the bytes on as they are, and a real
        agent's body has thousands of brackets, so checking every request would cost
        nearly as much as parsing it."""
        if too_deep(self.raw, self.body):
            raise CodecError(TOO_DEEP)


def too_deep(raw: bytes, body, limit: int = MAX_DEPTH) -> bool:
    """Whether ``body`` nests deeper than ``limit``: the parser copes (up to Python's
    recursion limit, then RecursionError), the recursive code after it does not. Costs
    two byte counts unless the body has more brackets than ``limit``; then one pass over
    its containers, level by level (never its bytes: strings are most of a big body)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets
    level = [body]
    for _ in range(limit):
        deeper = []
        add = deeper.append
        for value in level:  # json.loads makes plain dicts and lists only
            for child in (value.values() if type(value) is dict else value):
                if type(child) is dict or type(child) is list:
                    add(child)
        if not deeper:
            return False
        level = deeper
    return True
