"""byecore's providers, aliases and fallbacks as a LiteLLM proxy ``config.yaml``.

Checked against LiteLLM 1.108.7 (``LITELLM_VERSION``; the tests start that proxy on an
export): ``router_settings`` holds ``litellm.Router``'s constructor arguments, and
``os.environ/NAME`` is read from the environment when the proxy starts.

How byecore's routing maps onto LiteLLM's:

- every ``provider/model`` byecore can route to is one model group, named exactly that,
  so a client sending ``provider/model`` reaches the same upstream through either;
- ``provider/*`` is a wildcard group per provider, and ``*`` one for the default
  provider: both pass the requested name through, as byecore does;
- each bare model name and each exact ``[proxy.aliases]`` name is placed by byecore's
  own ``Router`` and written as ``router_settings.model_group_alias``, so it lands where
  ``byecore proxy`` would send it (an alias beats a model list there too);
- a glob alias becomes a wildcard ``model_name`` with a fixed target; LiteLLM knows
  only ``*``, tries the longest pattern first and matches a pattern as a prefix, so
  the export says where that differs from byecore's written order and whole-name match;
- ``[proxy.fallbacks]`` become ``router_settings.fallbacks``, one chain per name a
  client can send: LiteLLM looks a chain up by the requested name, not by the group an
  alias resolves to (seen against the real proxy). The chains are byecore's own
  (``Router.route``), already cut at ``max_attempts``; ``num_retries`` is 0 because
  byecore tries each target once.

One upstream protocol per provider: its first listed (byecore's choice for a client
whose protocol it does not speak). Chat and Responses together are both used
(``openai/``); Chat alone adds ``use_chat_completions_api`` so Responses clients are
bridged to Chat; Responses alone is ``openai/responses/``; Messages is ``anthropic/``;
the Gemini API is ``gemini/`` with ``api_base`` up to the version (LiteLLM appends
``/models/{model}:generateContent``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from byecore_cli.config.models import Provider, Settings
from byecore_cli.errors import NotFound
from byecore_cli.providers.endpoints import anthropic_base, gemini_base, openai_base
from byecore_cli.proxy.router import Router, Target

LITELLM_VERSION = "1.108.7"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
GATEWAY_KEY_ENV = "LITELLM_API_KEY"  # what the exported client settings read the key from
DEFAULT_GATEWAY = "http://localhost:4000"  # where `litellm --config` listens by default
KEYLESS = "no-key-needed"  # LiteLLM's OpenAI and Anthropic clients refuse an empty key
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Upstream:
    """How LiteLLM reaches one provider."""

    prefix: str  # litellm_params.model is f"{prefix}/{model}"
    base: str  # litellm_params.api_base
    protocols: tuple[str, ...]  # the byecore protocols LiteLLM uses on it
    chat_for_responses: bool = False  # use_chat_completions_api


def upstream(provider: Provider) -> Upstream:
    spoken = provider.protocols
    if spoken[0] in ("chat", "responses"):
        base = openai_base(provider.base_url, provider.openai_path)
        if "chat" in spoken and "responses" in spoken:
            return Upstream("openai", base, ("chat", "responses"))
        if spoken[0] == "chat":
            return Upstream("openai", base, ("chat",), chat_for_responses=True)
        return Upstream("openai/responses", base, ("responses",))
    if spoken[0] == "messages":
        return Upstream("anthropic", anthropic_base(provider.base_url, provider.anthropic_path),
                        ("messages",))
    return Upstream("gemini", gemini_base(provider.base_url, provider.gemini_path), ("gemini",))


@dataclass
class KeyRef:
    """Where LiteLLM finds one provider's key."""

    provider: str
    variable: str | None  # the environment variable the file names; None: keyless
    source: str  # "env": the provider's own key_env; "stored": byecore stores the key
    literal: bool = False  # the key itself is in the file (--with-keys)
    is_set: bool = False  # the variable is set in this environment now


@dataclass
class LiteLLMExport:
    config: dict
    keys: list[KeyRef]
    gateway_url: str
    names: list[str]  # every exact model name a client can send
    not_carried: list[str] = field(default_factory=list)
    clients: list[dict] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # byecore commands to use the gateway

    @property
    def literal_keys(self) -> bool:
        return any(k.literal for k in self.keys)

    def as_dict(self) -> dict:
        return {"litellm_version": LITELLM_VERSION, "gateway_url": self.gateway_url,
                "keys": [asdict(k) for k in self.keys], "literal_keys": self.literal_keys,
                "master_key_env": MASTER_KEY_ENV, "names": self.names,
                "not_carried": self.not_carried, "clients": self.clients,
                "commands": self.commands, "config": self.config}


def build(settings: Settings, *, with_keys: bool = False,
          gateway_url: str = DEFAULT_GATEWAY) -> LiteLLMExport:
    if not settings.providers:
        raise NotFound("no provider saved: there is nothing to export",
                       hint="add one first: byecore provider add NAME "
                            "(see byecore provider presets)")
    return _Builder(settings, with_keys).build(gateway_url.rstrip("/"))


class _Builder:
    def __init__(self, settings: Settings, with_keys: bool) -> None:
        self.settings, self.router = settings, Router(settings)
        self.keys, self.api_keys = _keys(settings, with_keys)
        self.groups: dict[str, dict] = {}  # model_name → litellm_params, in order made
        self.not_carried: list[str] = []

    def params(self, provider_name: str, model: str) -> dict:
        up = upstream(self.settings.providers[provider_name])
        params = {"model": f"{up.prefix}/{model}", "api_base": up.base,
                  "api_key": self.api_keys[provider_name]}
        if up.chat_for_responses:
            params["use_chat_completions_api"] = True
        return params

    def group(self, target: Target) -> str | None:
        if target.config is None:  # byecore's offline demo provider
            self.not_carried.append(f"{target.name}: the offline demo provider has no "
                                    "LiteLLM equivalent; left out")
            return None
        self.groups.setdefault(target.name, self.params(target.provider, target.model))
        return target.name

    def route(self, name: str) -> list[Target] | None:
        try:
            return self.router.route(name, "chat")
        except NotFound as exc:
            self.not_carried.append(f"{name}: {exc.message}; left out")
            return None

    def build(self, gateway_url: str) -> LiteLLMExport:
        settings, proxy = self.settings, self.settings.proxy
        for name, provider in settings.providers.items():
            listed = [*provider.models, *([provider.default_model]
                                          if provider.default_model else [])]
            for model in dict.fromkeys(listed):
                self.group(self.router.place(f"{name}/{model}", "chat", via="export"))
        aliases: dict[str, str] = {}
        for name in self.router.models():
            chain = self.route(name)
            first = self.group(chain[0]) if chain else None
            if first and first != name:
                aliases[name] = first
        patterns = self._patterns()
        fallbacks = self._fallbacks(aliases)
        router_settings: dict = {}
        if aliases:
            router_settings["model_group_alias"] = aliases
        if fallbacks:
            router_settings["fallbacks"] = fallbacks
        router_settings.update(
            num_retries=0, timeout=proxy.timeouts.first_byte,
            stream_timeout=max(proxy.timeouts.first_byte, proxy.timeouts.idle))
        model_list = [{"model_name": name, "litellm_params": params}
                      for name, params in [*self.groups.items(), *patterns]]
        config = {"model_list": model_list, "router_settings": router_settings,
                  "general_settings": {"master_key": f"os.environ/{MASTER_KEY_ENV}"}}
        self._not_carried()
        self.not_carried = list(dict.fromkeys(self.not_carried))
        names = list(dict.fromkeys([*self.groups, *aliases]))
        default = settings.providers.get(settings.default_provider or "")
        return LiteLLMExport(config=config, keys=self.keys, gateway_url=gateway_url,
                             names=names, not_carried=self.not_carried,
                             clients=_clients(gateway_url),
                             commands=_commands(gateway_url, names,
                                                default.default_model if default else None))

    def _patterns(self) -> list[tuple[str, dict]]:
        """The wildcard routes in byecore's order: provider/*, glob aliases, then *."""
        settings = self.settings
        routes = [(f"{name}/*", self.params(name, "*")) for name in settings.providers]
        for pattern, target in settings.proxy.aliases.items():
            if not _GLOB.search(pattern):
                continue
            if re.search(r"[?\[]", pattern):
                self.not_carried.append(
                    f"alias {pattern!r}: LiteLLM wildcards know only '*', not '?' or "
                    "'[...]'; left out (write it with '*' or list the names)")
                continue
            try:
                chosen = self.router.place(target, "chat", via=f"alias {pattern}")
            except NotFound as exc:
                self.not_carried.append(f"alias {pattern!r}: {exc.message}; left out")
                continue
            if chosen.config is None:
                self.group(chosen)  # says why it is left out
                continue
            routes.append((pattern, self.params(chosen.provider, chosen.model)))
            if not pattern.endswith("*"):
                self.not_carried.append(
                    f"alias {pattern!r}: LiteLLM matches a pattern at the start of a name "
                    "only, so it also takes names that go on after it")
        if settings.default_provider:
            routes.append(("*", self.params(settings.default_provider, "*")))
        self._order_notes([name for name, _ in routes])
        return routes

    def _order_notes(self, ours: list[str]) -> None:
        """LiteLLM tries the longest pattern first (router_utils/pattern_match_deployments):
        say so where that puts a pattern ahead of one byecore tries before it."""
        def weight(pattern: str) -> tuple[int, int]:
            regex = re.escape(pattern).replace(r"\*", "(.*)")
            return len(regex), sum(regex.count(c) for c in "*+?\\^$|()")

        theirs = sorted(ours, key=weight, reverse=True)
        for i, first in enumerate(ours):
            for later in ours[i + 1:]:
                if theirs.index(later) < theirs.index(first) and _may_overlap(first, later):
                    self.not_carried.append(
                        f"wildcard order: LiteLLM tries {later!r} before {first!r} (longest "
                        f"first); byecore tries {first!r} first, so a name both match "
                        "may go elsewhere")

    def _fallbacks(self, aliases: dict[str, str]) -> list[dict]:
        proxy = self.settings.proxy
        exact = [p for p in proxy.fallbacks if not _GLOB.search(p)]
        for pattern in exact:  # a named target may not be in any model list
            chain = self.route(pattern)
            if chain:
                self.group(chain[0])
        chains: list[dict] = []
        pending, done = [*self.groups, *aliases], set()
        while pending:
            name = pending.pop(0)
            if name in done:
                continue
            done.add(name)
            chain = self.route(name) or []
            targets = [g for g in (self.group(t) for t in chain[1:]) if g]
            if targets:
                chains.append({name: targets})
            pending += [g for g in self.groups if g not in done]  # targets are groups too
        generic = proxy.fallbacks.get("*")
        if generic:
            targets = []
            for text in generic[: proxy.max_attempts - 1]:
                try:
                    targets.append(self.group(self.router.place(text, "chat", via="*")))
                except NotFound as exc:
                    self.not_carried.append(f"fallback for '*': {exc.message}; left out")
            if any(targets):
                chains.append({"*": [t for t in targets if t]})
        for pattern in proxy.fallbacks:
            if _GLOB.search(pattern) and pattern != "*":
                self.not_carried.append(
                    f"fallbacks for {pattern!r}: written for each listed model and alias "
                    "it matches; LiteLLM keys chains by name, so a name reached only "
                    "through a wildcard route gets " + ("the '*' chain" if generic
                                                        else "no fallback"))
        return chains

    def _not_carried(self) -> None:
        settings, proxy = self.settings, self.settings.proxy
        scenarios = ", ".join(f"{k} → {v}" for k, v in proxy.scenarios.items())
        self.not_carried.insert(0, (
            f"Claude Code scenario routing ([proxy.scenarios]: {scenarios}): LiteLLM routes "
            "by model name only" if scenarios else
            "Claude Code scenario routing ([proxy.scenarios], none set here): LiteLLM "
            "routes by model name only"))
        self.not_carried.insert(1, (
            "byecore's per-client local keys (byecore proxy --show-key): clients of "
            f"LiteLLM send its master key (${MASTER_KEY_ENV}) or a virtual key made with "
            "its /key/generate (that needs its Postgres database)"))
        for name, provider in settings.providers.items():
            up = upstream(provider)
            unused = [p for p in provider.protocols if p not in up.protocols]
            if unused:
                self.not_carried.append(
                    f"{name} speaks {', '.join(provider.protocols)}: LiteLLM reaches it over "
                    f"{', '.join(up.protocols)} only ({up.prefix}/…); clients of "
                    f"{', '.join(unused)} are translated by LiteLLM, not passed through")
            if provider.quirks:
                self.not_carried.append(
                    f"{name}'s quirks ({', '.join(provider.quirks)}): byecore's fixes for "
                    "this upstream; LiteLLM has its own handling (check drop_params and the "
                    "provider's LiteLLM page)")
            if getattr(provider, "image_models", None):
                self.not_carried.append(f"{name}'s image model sizes and prices: byecore's "
                                        "own table, not exported")
        self.not_carried.append(
            f"timeouts: first_byte ({proxy.timeouts.first_byte:g} s) became timeout and "
            "stream_timeout covers idle; connect and client_body, keepalive, max_body_mb, "
            "max_answer_mb, allowed_hosts and allowed_origins are byecore proxy's own "
            "server settings (set LiteLLM's in its general_settings and command line)")


def _may_overlap(a: str, b: str) -> bool:
    """Whether two ``*`` patterns might match one name (their literal starts agree)."""
    head_a, head_b = a.split("*", 1)[0], b.split("*", 1)[0]
    return head_a.startswith(head_b) or head_b.startswith(head_a)


def _keys(settings: Settings, with_keys: bool) -> tuple[list[KeyRef], dict[str, str]]:
    """Each provider's KeyRef, and the ``api_key`` value its deployments get."""
    taken = {p.key_env for p in settings.providers.values() if p.key_env}
    refs, values = [], {}
    for name, provider in settings.providers.items():
        value = provider.resolve_key()
        if provider.key:
            ref = KeyRef(name, _stored_variable(name, taken), "stored", is_set=False)
            taken.add(ref.variable)
        elif provider.key_env:
            ref = KeyRef(name, provider.key_env, "env", is_set=value is not None)
        else:
            refs.append(KeyRef(name, None, "none"))
            values[name] = KEYLESS
            continue
        if with_keys and value:
            ref.literal = True
            values[name] = value
        else:
            values[name] = f"os.environ/{ref.variable}"
        refs.append(ref)
    return refs, values


def _stored_variable(name: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "PROVIDER"
    base = f"BYECORE_{stem}_API_KEY"
    variable, n = base, 2
    while variable in taken:
        variable, n = f"{base}_{n}", n + 1
    return variable


def _clients(url: str) -> list[dict]:
    """What each kind of client needs to reach the gateway (LiteLLM serves Chat,
    Responses and Messages under /v1, the Gemini API under /v1beta)."""
    key = f"${GATEWAY_KEY_ENV} (the master key or a LiteLLM virtual key)"
    return [
        {"client": "OpenAI-protocol clients (Codex, Aider, OpenCode, Droid, Crush…)",
         "settings": {"base URL": f"{url}/v1", "API key": key}},
        {"client": "Claude Code",
         "settings": {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": key}},
        {"client": "Gemini CLI",
         "settings": {"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": key}},
    ]


def _commands(url: str, names: list[str], default_model: str | None) -> list[str]:
    """byecore commands that save the gateway as a provider and point clients at it."""
    add = (f"byecore provider add litellm --preset none --base-url {url} "
           "--protocol chat --protocol responses --protocol messages --protocol gemini "
           f"--key-env {GATEWAY_KEY_ENV}")
    add += "".join(f" --model {_shell(n)}" for n in names)
    if default_model:
        add += f" --default-model {_shell(default_model)}"
    return [add, "byecore setup codex --provider litellm",
            "byecore setup claude --provider litellm"]


def _shell(text: str) -> str:
    import shlex

    return shlex.quote(text)


def to_yaml(export: LiteLLMExport, source: str) -> str:
    """The config as YAML, headed by comments saying where it came from and what to set."""
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long URLs stay on one line
    doc = CommentedMap(export.config)
    needed = [f"{MASTER_KEY_ENV} (the key clients send; LiteLLM {LITELLM_VERSION} refuses "
              "to start without one)"]
    needed += [f"{k.variable} ({k.provider}'s key)" for k in export.keys
               if k.variable and not k.literal]
    header = [f"LiteLLM proxy config from byecore's settings ({source}),",
              f"written by `byecore export litellm` and checked with LiteLLM {LITELLM_VERSION}.",
              "Start it with: litellm --config THIS_FILE",
              "Set first: " + "; ".join(needed)]
    if export.literal_keys:
        header.append("This file holds API keys (--with-keys): keep it private.")
    doc.yaml_set_start_comment("\n".join(header))
    out = StringIO()
    yaml.dump(doc, out)
    return out.getvalue()
