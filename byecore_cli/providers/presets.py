"""Known providers, as data: one row each, checked by one consistency test over all rows.

A row is a starting point for ``byecore provider add NAME``; every field can be
overridden on the command line, and a saved provider keeps working if its preset
changes or disappears (the settings file holds the resolved values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from byecore_cli.providers.endpoints import Protocol

# The gateway's image-2 (its documentation's chapter on image models): a price per size
# tier, US dollars per image; a request without a size, with "auto" or with a size not
# listed here is billed as 2K. The shape is settings.toml's (config/models.ImageModel).
IMAGE_2 = {
    "tiers": {
        "1K": {"sizes": ("1024x1024",), "price": 0.05},
        "2K": {"sizes": ("2048x2048", "1536x1024", "1024x1536"), "price": 0.10},
        "4K": {"sizes": ("3840x2160", "2160x3840"), "price": 0.20},
    },
    "missing_size_tier": "2K",
}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    base_url: str  # the root; see providers/endpoints.py for how paths are derived
    protocols: tuple[Protocol, ...]
    key_env: str | None  # the variable the vendor's own docs use; None: no key needed
    models: tuple[str, ...]
    default_model: str
    openai_path: str = "/v1"
    anthropic_path: str = ""
    local: bool = False  # runs on the user's machine
    note: str = ""  # what a user of this vendor should know, shown by 'provider presets'
    quirks: tuple[str, ...] = ()  # names from providers/quirks.py
    # model → its size tiers and prices, served at {openai base}/images/generations
    image_models: Mapping[str, Mapping] = field(default_factory=dict, hash=False,
                                                compare=False)


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="byecore",
        title="ByeCore gateway",
        base_url="https://api.byecore.com",
        protocols=("chat", "responses", "messages"),
        key_env="BYECORE_API_KEY",
        models=("gpt-5.4", "gpt-5.5", "gpt-5.3-codex"),
        default_model="gpt-5.4",
        image_models={"image-2": IMAGE_2},
    ),
    Preset(
        name="openai",
        title="OpenAI",
        base_url="https://api.openai.com",
        protocols=("responses", "chat"),
        key_env="OPENAI_API_KEY",
        models=("gpt-5.5", "gpt-6.1-sol", "gpt-5.4", "gpt-5.3-codex"),
        default_model="gpt-5.5",
        note="codex models and tool calls on GPT-6 models need the Responses API",
    ),
    Preset(
        name="anthropic",
        title="Anthropic",
        base_url="https://api.anthropic.com",
        protocols=("messages",),
        key_env="ANTHROPIC_API_KEY",
        models=("claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5"),
        default_model="claude-sonnet-5-5",
    ),
    Preset(
        name="deepseek",
        title="DeepSeek",
        base_url="https://api.deepseek.com",
        protocols=("chat", "responses", "messages"),
        key_env="DEEPSEEK_API_KEY",
        models=("deepseek-v4-pro", "deepseek-flash"),
        default_model="deepseek-v4-pro",
        openai_path="",
        anthropic_path="/anthropic",
    ),
    Preset(
        name="moonshot",
        title="Moonshot AI (Kimi)",
        base_url="https://api.moonshot.ai",
        protocols=("chat", "responses", "messages"),
        key_env="MOONSHOT_API_KEY",
        models=("kimi-k3", "kimi-k2.7-code", "kimi-k2.6"),
        default_model="kimi-k3",
        anthropic_path="/anthropic",
        note="keys from the China platform need --base-url https://api.moonshot.cn",
    ),
    Preset(
        name="dashscope",
        title="Alibaba Cloud Model Studio (Qwen, international)",
        base_url="https://dashscope-intl.aliyuncs.com",
        protocols=("chat", "responses", "messages"),
        key_env="DASHSCOPE_API_KEY",
        models=("qwen3-coder-plus", "qwen3-coder-next", "qwen3.7-max"),
        default_model="qwen3-coder-plus",
        openai_path="/compatible-mode/v1",
        anthropic_path="/apps/anthropic",
        note="keys work only in the region that issued them (China: dashscope.aliyuncs.com)",
    ),
    Preset(
        name="xai",
        title="xAI (Grok)",
        base_url="https://api.x.ai",
        protocols=("responses", "chat"),
        key_env="XAI_API_KEY",
        models=("grok-4.7", "grok-4.6", "grok-code-fast-1"),
        default_model="grok-4.7",
        note="Chat Completions is deprecated there; its Anthropic endpoint is retired",
    ),
    Preset(
        name="gemini",
        title="Google Gemini API",
        base_url="https://generativelanguage.googleapis.com",
        # native first: every client that does not speak Chat is translated to the Gemini
        # API itself (thought signatures, schemas); Chat clients use Google's OpenAI endpoint
        protocols=("gemini", "chat"),
        key_env="GEMINI_API_KEY",
        models=("gemini-3.8-flash", "gemini-3.1-pro-preview"),
        default_model="gemini-3.8-flash",
        openai_path="/v1beta/openai",
    ),
    Preset(
        name="openrouter",
        title="OpenRouter",
        base_url="https://openrouter.ai/api",
        protocols=("chat", "responses", "messages"),
        key_env="OPENROUTER_API_KEY",
        models=("moonshotai/kimi-k3", "qwen/qwen3-coder-next", "openai/gpt-6.1-sol"),
        default_model="moonshotai/kimi-k3",
        note="its Responses API is in beta; /v1/messages is sure to work only for Claude models",
    ),
    Preset(
        name="ollama",
        title="Ollama (local)",
        base_url="http://localhost:11434",
        protocols=("chat", "responses", "messages"),
        key_env=None,
        models=("qwen3-coder", "gpt-oss:20b"),
        default_model="qwen3-coder",
        local=True,
        note="Responses needs Ollama 0.13.3+, Messages 0.14.0+; raise OLLAMA_CONTEXT_LENGTH",
    ),
    Preset(
        name="lmstudio",
        title="LM Studio (local)",
        base_url="http://localhost:1234",
        protocols=("chat", "responses", "messages"),
        key_env=None,
        models=("openai/gpt-oss-20b", "qwen/qwen3-coder-next"),
        default_model="openai/gpt-oss-20b",
        local=True,
        note="Responses needs LM Studio 0.3.29+, Messages 0.4.1+",
        # the Jinja chat templates of Qwen 3.5 and others refuse a later system message
        quirks=("system_first",),
    ),
)

BY_NAME: dict[str, Preset] = {p.name: p for p in PRESETS}
