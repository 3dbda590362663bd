"""Request bodies and error shapes shared by the proxy's input and guard tests."""

from __future__ import annotations


def minimal(protocol: str, model: str = "demo") -> dict:
    """The smallest valid request body of ``protocol`` ("chat", "responses", "messages")."""
    if protocol == "responses":
        return {"model": model, "input": "hi"}
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if protocol == "messages":
        body["max_tokens"] = 10
    return body


def shape_of(body) -> str | None:
    """'anthropic' or 'openai' when ``body`` is exactly that protocol's error shape, else None.

    Anthropic: ``{"type": "error", "error": {"type", "message"}}``;
    OpenAI: ``{"error": {"message", "type", ...}}`` with no top-level ``type``.
    """
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    if body.get("type") == "error" and isinstance(error.get("type"), str) \
            and isinstance(error.get("message"), str):
        return "anthropic"
    if "type" not in body and isinstance(error.get("message"), str) and "type" in error:
        return "openai"
    return None
