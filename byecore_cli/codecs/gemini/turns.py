"""The two rules a Gemini upstream enforces on a conversation's tool calls.

Pairing (``pair_calls``): every function call of a model turn is answered in the very
next user turn, one ``functionResponse`` per call, in call order ("the number of function
response parts must equal the number of function call parts"). A call left unanswered
gets an error response saying so; a response whose call is not in the preceding model
turn becomes user text, content kept. The encoder marks its own call and response parts
with ``HUB`` (the hub id) so that they are told apart from a client's opaque parts; the
marker is removed here.

Signatures (``sign_calls``): Gemini 3 refuses a request with a model step (one ``model``
content) whose FIRST ``functionCall`` part carries no ``thoughtSignature``: Gemini signs
only the first of parallel calls, and checks only the steps since the last user text,
but older steps get one too (harmless; which turn is "current" is the upstream's
business). When that first call has none (history from another model, or a client that
dropped it and a signature the cache no longer holds), it gets
``skip_thought_signature_validator``, the value Google documents for that case, as that
literal string (which the Gemini API reads); real signatures are left exactly as they are.
"""

from __future__ import annotations

from byecore_cli.codecs.gemini.parts import SIGNATURE

SKIP_SIGNATURE = "skip_thought_signature_validator"
UNANSWERED = "No result was provided for this tool call."
HUB = "_hub_id"  # a call's or result's hub id, on the wire dict until pairing is done


def pair_calls(contents: list[dict]) -> None:
    """Every model turn's calls answered, in order, by the next user turn."""
    i = 0
    while i < len(contents):
        turn = contents[i]
        # our own calls and responses carry HUB (a client's opaque part may hold the keys)
        calls = [p for p in turn["parts"] if HUB in p] if turn["role"] == "model" else []
        if turn["role"] == "user":
            for part in turn["parts"]:  # results nobody asked for: plain text
                if HUB in part:
                    _orphan(part)
        if not calls:
            i += 1
            continue
        if i + 1 == len(contents) or contents[i + 1]["role"] != "user":
            contents.insert(i + 1, {"role": "user", "parts": []})
        answer = contents[i + 1]
        by_id = {p[HUB]: p for p in answer["parts"] if HUB in p}
        responses = []
        for call in calls:
            found = by_id.pop(call[HUB], None)
            if found is None:
                found = {"functionResponse": {"name": call["functionCall"]["name"],
                                              "response": {"error": UNANSWERED}}}
                if "id" in call["functionCall"]:
                    found["functionResponse"]["id"] = call["functionCall"]["id"]
            found.pop(HUB, None)
            responses.append(found)
        taken = {id(p) for p in responses}
        rest = [p for p in answer["parts"] if id(p) not in taken]
        for part in rest:
            if HUB in part:
                _orphan(part)
        answer["parts"] = responses + rest
        for call in calls:
            call.pop(HUB, None)
        i += 2


def _orphan(part: dict) -> None:
    """A functionResponse with no call before it → a text part (Gemini would refuse it)."""
    response = part.pop("functionResponse")
    hub_id = part.pop(HUB)
    value = response["response"]
    words = value.get("output") or value.get("error") if len(value) == 1 else None
    part["text"] = f"[tool result for call {hub_id}]\n{words if isinstance(words, str) else value}"


def sign_calls(contents: list[dict]) -> None:
    for turn in contents:
        if turn["role"] != "model":
            continue
        first = next((p for p in turn["parts"] if isinstance(p.get("functionCall"), dict)),
                     None)
        if first is not None and not first.get(SIGNATURE):
            first[SIGNATURE] = SKIP_SIGNATURE
