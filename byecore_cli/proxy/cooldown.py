"""Targets that said "slow down", remembered across requests.

A fallback chain retries a 429 on its next target within one request; without memory,
every following request would hit the rate-limited target first again, wait for its
429, and only then move on. So a 429 or 529 (or a 503 that names a Retry-After) marks
its target (provider and model: vendors limit per model) as cooling for the Retry-After
it gave, 10 s when it gave none, at most 5 minutes. While a target cools, chains that
have another target try that one first; the cooling target stays in the chain, last, so
a request still has somewhere to go when everything else fails. A good answer (below
400) from a cooling target ends its cooldown early.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from byecore_cli.hub import ErrorInfo

DEFAULT_SECONDS = 10.0
MAX_SECONDS = 300.0
log = logging.getLogger("byecore.proxy")


def _wait(retry_after) -> float:
    """The cooldown for a Retry-After: 0 to MAX_SECONDS, DEFAULT_SECONDS when it is unknown
    or no number (NaN would cool a target for ever: it compares false with every time)."""
    try:
        wait = float(retry_after)
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_SECONDS
    if wait != wait:
        return DEFAULT_SECONDS
    return min(max(wait, 0.0), MAX_SECONDS)


class Cooldowns:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    def note(self, target: str, info: ErrorInfo) -> None:
        """Remember a failure of ``target`` (``provider/model``) if it asked to back off."""
        if info.status in (429, 529) or (info.status == 503 and info.retry_after):
            self._until[target] = self._clock() + _wait(info.retry_after)

    def answered(self, target: str) -> None:
        if self._until:
            self._until.pop(target, None)

    def order(self, chain: list) -> list:
        """``chain`` (router targets) with the cooling ones moved to the end, in order."""
        if not self._until or len(chain) < 2:
            return chain
        now = self._clock()
        for name in [n for n, until in self._until.items() if until <= now]:
            del self._until[name]
        cooling = [t for t in chain if t.name in self._until]
        if not cooling or len(cooling) == len(chain):
            return chain
        log.info("%s cooling down after a rate limit; trying %s first",
                 ", ".join(t.name for t in cooling),
                 ", ".join(t.name for t in chain if t.name not in self._until))
        return [t for t in chain if t.name not in self._until] + cooling
