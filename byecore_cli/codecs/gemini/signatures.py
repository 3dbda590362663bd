"""The thought signatures of Gemini's function calls, remembered for clients that drop them.

Gemini 3 refuses a replayed function call whose ``thoughtSignature`` is missing (400
"Function call is missing a thought_signature"). A Gemini client sends it back itself; a
client on another protocol cannot: an Anthropic ``tool_use``, a Chat ``tool_calls``
entry and a Responses ``function_call`` have no field that would carry it. So every
signature on a function call in a Gemini answer, whole or streamed, is remembered here
under the hub id the client sees for that call, and the encoder looks it up when the
call comes back without one (encode.py).

Bounded: the newest ``MAX_ENTRIES`` signatures and at most ``MAX_BYTES`` of them are
kept (least recently used go first), so a long-running proxy stays small; a forgotten
signature costs only the documented dummy (turns.py). An entry also holds the function's
wire name, so an id a client reuses for another call never gets a wrong signature.

One process-wide cache, shared by the proxy's requests: a plain dict behind a lock, each
operation O(1), so it is safe from asyncio tasks and from threads alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_ENTRIES = 4096
MAX_BYTES = 32 * 1024 * 1024


class SignatureCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, call_id: str, name: str, signature: str) -> None:
        if not call_id or not signature or len(signature) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(call_id, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[call_id] = (name, signature)
            self._bytes += len(signature)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)

    def recall(self, call_id: str, name: str) -> str | None:
        """The signature Gemini gave the call ``call_id`` to function ``name``, if kept."""
        with self._lock:
            entry = self._entries.get(call_id)
            if entry is None or entry[0] != name:
                return None
            self._entries.move_to_end(call_id)
            return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


SIGNATURES = SignatureCache()
