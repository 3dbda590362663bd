"""The two small Gemini endpoints beside generation: ``:countTokens`` and ``GET models``.

``POST /v1beta/models/{model}:countTokens`` takes either ``{"contents": [...]}`` or
``{"generateContentRequest": {"model": "models/…", "contents": …, "tools": …}}``;
``decode_count_request`` reads both into a hub Request (model from the caller, as for
generation) so any upstream's counting, or byecore's estimate, can answer, and
``encode_count_response`` writes ``{"totalTokens": n}``.

``GET /v1beta/models`` answers ``{"models": [{"name": "models/<id>", …}]}`` with the
generation methods Gemini CLI and the SDKs look for (``encode_model_list``).
"""

from __future__ import annotations

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.gemini.fields import get, obj
from byecore_cli.codecs.gemini.request import decode_request
from byecore_cli.hub import Request

METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


def decode_count_request(body: dict) -> Request:
    try:
        return _count_request(body)
    except CodecError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # safety net
        raise CodecError(f"malformed Gemini countTokens request: {exc}") from exc


def _count_request(body: dict) -> Request:
    body = obj(body, "body")
    inner = get(body, "generateContentRequest")
    if inner is None:
        return decode_request(body)
    inner = obj(inner, "generateContentRequest")
    return decode_request({**inner, "model": body.get("model") or inner.get("model", "")})


def encode_count_response(total_tokens: int, cached_tokens: int = 0) -> dict:
    out: dict = {"totalTokens": total_tokens}
    if cached_tokens:
        out["cachedContentTokenCount"] = cached_tokens
    return out


def encode_model_list(models: list[str]) -> dict:
    return {"models": [{"name": f"models/{m.removeprefix('models/')}",
                        "displayName": m.removeprefix("models/"),
                        "supportedGenerationMethods": list(METHODS)} for m in models]}
