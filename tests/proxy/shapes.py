"""Request bodies and error shapes shared by the proxy's input and guard tests."""

from __future__ import annotations


def minimal(protocol: str, model: str = "demo") -> dict:
    """The smallest valid request body of ``protocol`` ("chat", "responses", "messages",
    "gemini"; a Gemini body names no model: that is in its path)."""
    if protocol == "gemini":
        return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    if protocol == "responses":
        return {"model": model, "input": "hi"}
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if protocol == "messages":
        body["max_tokens"] = 10
    return body


def shape_of(body) -> str | None:
    """'anthropic', 'openai' or 'gemini' when ``body`` is exactly that protocol's error
    shape, else None.

    Anthropic: ``{"type": "error", "error": {"type", "message"}}``;
    OpenAI: ``{"error": {"message", "type", ...}}`` with no top-level ``type``;
    Gemini: ``{"error": {"code": int, "message", "status"}}``, no ``type`` anywhere.
    """
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    if set(body) == {"error"} and "type" not in error and type(error.get("code")) is int \
            and isinstance(error.get("message"), str) and isinstance(error.get("status"), str):
        return "gemini"
    if body.get("type") == "error" and isinstance(error.get("type"), str) \
            and isinstance(error.get("message"), str):
        return "anthropic"
    if "type" not in body and isinstance(error.get("message"), str) and "type" in error:
        return "openai"
    return None
