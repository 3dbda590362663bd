"""A running proxy follows settings.toml through editors' saves without a blink of demo.

Editors save by truncating the file and writing it again, or by deleting and recreating
it; the proxy must never take the empty, missing or half-written file in between for
"no provider saved" and answer with the demo provider, nor use a half-written file
that happens to be valid TOML (cut at a line boundary: a provider without its key, a
[proxy] without its aliases).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import threading
import time

import aiohttp
import pytest

from byecore_cli.config import store
from byecore_cli.config.store import QUIET, SettingsStore, SettingsWatch
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from tests.proxy.conftest import UPSTREAM_KEY


def _text(url: str, models: str = '["m1"]', extra: str = "") -> str:
    return (f'default_provider = "up"\n\n[providers.up]\nbase_url = "{url}"\n'
            f'protocols = ["chat"]\nkey = "{UPSTREAM_KEY}"\nmodels = {models}\n{extra}')


async def _serve(aiohttp_server, text: str):
    path = Paths.current().settings
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    settings, _ = SettingsStore(path).load()
    app = create_app(settings, settings_path=path)
    server = await aiohttp_server(app)
    return path, app[STATE], str(server.make_url("")).rstrip("/")


def _line_cuts(text: str) -> list[int]:
    """Every place the text can be cut at a line boundary, from empty to all but the end."""
    return [0] + [i + 1 for i, c in enumerate(text[:-1]) if c == "\n"]


async def _until(state, done) -> None:
    """Let requests come (each looks at the file) until ``done()``, for ~5 s at most."""
    for _ in range(100):
        state._checked = 0.0
        state.refresh()  # what every inference and model-list request does first
        if done():
            return
        await asyncio.sleep(0.05)


def _rewrite(path, text: str, rounds: int) -> None:
    """Save ``text`` again and again, each time the way one kind of editor does."""
    # in two pieces: cut inside the URL string (not TOML until the rest), or at a line
    # boundary (valid TOML, the provider perhaps without its key)
    cuts = [text.index("base_url") + 16] + _line_cuts(text)
    for n in range(rounds):
        cut = cuts[n // 3 % len(cuts)]
        kind = n % 3
        if kind == 0:  # truncate, then write
            with open(path, "w") as handle:
                time.sleep(0.002)
                handle.write(text)
        elif kind == 1:  # delete, then create and write
            path.unlink()
            time.sleep(0.002)
            with open(path, "w") as handle:
                time.sleep(0.002)
                handle.write(text)
        else:  # written in two pieces
            with open(path, "w") as handle:
                handle.write(text[:cut])
                handle.flush()
                time.sleep(0.002)
                handle.write(text[cut:])
        time.sleep(0.001)


async def test_saves_in_flight_never_bring_the_demo_provider(aiohttp_server, fake, sdk):
    path, state, url = await _serve(aiohttp_server, _text(fake.url))
    client = sdk.openai(url)
    writer = threading.Thread(target=_rewrite, args=(path, _text(fake.url), 150))
    writer.start()
    answers = []
    try:
        for _ in range(400):
            if not writer.is_alive():
                break
            state._checked = 0.0  # look at the file on every request
            reply = await client.chat.completions.create(
                model="m1", messages=[{"role": "user", "content": "hi"}])
            answers.append(reply.choices[0].message.content)
    finally:
        writer.join()
    assert len(answers) > 10  # the requests did overlap the saves
    assert [a for a in answers if "demo" in a] == []
    assert set(answers) == {"chat says: hi"} and len(fake.requests) == len(answers)
    assert {r["headers"].get("Authorization") for r in fake.requests} == {
        f"Bearer {UPSTREAM_KEY}"}  # never the half file's provider without its key

    # a complete, valid save is used as soon as it has stayed put a moment
    path.write_text(_text(fake.url, extra=f'\n[providers.more]\nbase_url = "{fake.url}"\n'
                          'protocols = ["chat"]\n'))
    await _until(state, lambda: "more" in state.settings.providers)
    assert sorted(state.settings.providers) == ["more", "up"]


async def test_a_rewrite_that_keeps_mtime_and_size_is_still_seen(aiohttp_server, fake,
                                                                local_key):
    path, state, url = await _serve(aiohttp_server, _text(fake.url, '["m1"]'))
    before = path.stat()
    path.write_text(_text(fake.url, '["m2"]'))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime, as on FAT
    assert path.stat().st_size == before.st_size
    listed = None
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # the change is used once it has stayed put a moment
            state._checked = 0.0
            async with session.get(url + "/v1/models",
                                   headers={"Authorization": f"Bearer {local_key}"}) as resp:
                listed = [m["id"] for m in (await resp.json())["data"]]
            if listed == ["m2"]:
                break
            await asyncio.sleep(0.05)
    assert listed == ["m2"]


async def test_removing_every_provider_on_purpose_takes_effect(aiohttp_server, fake):
    path, state, url = await _serve(aiohttp_server, _text(fake.url))
    path.write_text("# no providers for now\n[proxy]\nport = 4000\n")
    shown = None
    for _ in range(50):  # a valid file without providers is trusted once it stays put
        state._checked = 0.0
        state.refresh()
        shown = sorted(state.settings.providers)
        if shown == []:
            break
        await asyncio.sleep(0.1)
    assert shown == []


def _age(path, seconds: float = 30.0) -> None:
    """Make the file look last written ``seconds`` ago: the write is over."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_each_lasting_problem_is_logged_once_and_the_last_good_settings_stay(
        byecore_home, caplog):
    path = Paths.current().settings
    path.parent.mkdir(parents=True)
    path.write_text(_text("https://up.test"))
    good, _ = SettingsStore(path).load()
    watch = SettingsWatch(path, good)
    caplog.set_level(logging.WARNING, "byecore.proxy")

    for broken in ("", _text("https://up.test").replace('["chat"]', '["grpc"]')):
        path.write_text(broken)
        _age(path)
        for _ in range(5):
            assert watch.check() is None
        assert watch.settings == good
    path.unlink()  # no mtime to tell a finished delete: logged once it lasts a second
    for _ in range(40):
        assert watch.check() is None
        time.sleep(0.05)
    assert watch.settings == good
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages
    assert "is empty" in messages[0] and "protocols" in messages[1]
    assert "missing" in messages[2]

    path.write_text(_text("https://up.test", '["m9"]'))
    _age(path)  # a save that ended a while ago is used at the first look
    assert watch.check().providers["up"].models == ["m9"]


async def test_count_tokens_follows_a_saved_edit(aiohttp_server, fake, local_key):
    """count_tokens routes like every other call, so it must see the saved settings too."""
    path, state, url = await _serve(aiohttp_server, _text(fake.url, '["m1"]'))
    path.write_text(_text(fake.url, '["m1", "m2"]'))
    _age(path, 5.0)  # saved a while ago: used at the first look
    state._checked = 0.0
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/messages/count_tokens",
            json={"model": "m2", "messages": [{"role": "user", "content": "hi"}]},
            headers={"x-api-key": local_key, "anthropic-version": "2023-06-01"}) as resp:
        assert resp.status == 200
    assert state.settings.providers["up"].models == ["m1", "m2"]


# --- a save cut at a line boundary: valid TOML, and still never used ----------------------

SPARE_KEY = "sk-spare-secret-fedcba9876543210"


def _realistic(url: str, dead: str, alias: str = "main/gpt-5.5") -> str:
    """A settings file as people keep it: providers with keys, aliases, fallbacks. ``main``,
    the provider the aliases lead to, comes last, so a cut inside it drops no provider."""
    return f'''# byecore settings: saved providers and defaults.
default_provider = "main"

[providers.dead]  # an old gateway, gone: its models fall back to the spare
base_url = "{dead}"
protocols = ["chat"]
key = "sk-dead-0000000000000000"
models = ["old-model"]

[providers.spare]
base_url = "{url}"
protocols = ["chat"]
key = "{SPARE_KEY}"
models = ["spare-model"]

[providers.main]
base_url = "{url}"
protocols = ["chat", "messages"]
key = "{UPSTREAM_KEY}"
models = ["gpt-5.5"]

[proxy]
port = 4000

[proxy.aliases]
"claude-*" = "{alias}"

[proxy.fallbacks]
"dead/*" = ["spare/spare-model"]
'''


class _Clock:
    """The watch's clock, moved by the test alone: a slow machine cannot make a half-written
    file look as if it had stayed put."""

    def __init__(self) -> None:
        self.wall = math.floor(time.time()) + 0.5  # a sub-second mtime: a fine file clock
        self.mono = 1000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    frozen = _Clock()
    monkeypatch.setattr(store, "time", frozen)
    return frozen


def _dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _save_in_two_pieces(path, text: str, cut: int, half_written, go_on) -> None:
    """An editor's save, paused between the pieces until the proxy has served requests."""
    with open(path, "w") as handle:
        handle.write(text[:cut])
        handle.flush()
        half_written.set()
        go_on.wait(10)
        handle.write(text[cut:])


class _Routes:
    """Requests through the alias and through the fallback, from one client of each kind."""

    def __init__(self, sdk, url: str) -> None:
        self.anthropic, self.openai = sdk.anthropic(url), sdk.openai(url)

    async def alias(self) -> str:
        reply = await self.anthropic.messages.create(
            model="claude-sonnet-4-5", max_tokens=50,
            messages=[{"role": "user", "content": "hi"}])
        return reply.content[0].text

    async def fallback(self) -> str:
        reply = await self.openai.chat.completions.create(
            model="dead/old-model", messages=[{"role": "user", "content": "hi"}])
        return reply.choices[0].message.content


async def test_a_save_cut_at_any_line_is_never_used(aiohttp_server, fake, sdk, clock):
    text = _realistic(fake.url, _dead_url())
    path, state, url = await _serve(aiohttp_server, text)
    routes = _Routes(sdk, url)
    answers = []
    for cut in _line_cuts(text):
        half_written, go_on = threading.Event(), threading.Event()
        writer = threading.Thread(target=_save_in_two_pieces,
                                  args=(path, text, cut, half_written, go_on))
        writer.start()
        try:
            assert await asyncio.to_thread(half_written.wait, 10)
            assert path.read_text() == text[:cut]
            for ask in (routes.alias, routes.fallback):  # each looks at the half file first
                state._checked = 0.0
                answers.append(await ask())
        finally:
            go_on.set()
            await asyncio.to_thread(writer.join)
        state._checked = 0.0
        answers.append(await routes.alias())  # the complete file: as good as before

    assert [a for a in answers if "demo" in a] == []
    assert answers == ["messages says: hi", "chat says: hi", "messages says: hi"] * len(
        _line_cuts(text))
    routed = [(r["path"], r["body"]["model"], r["headers"].get("x-api-key")
               or r["headers"].get("Authorization")) for r in fake.requests]
    assert set(routed) == {("/v1/messages", "gpt-5.5", UPSTREAM_KEY),
                           ("/v1/chat/completions", "spare-model", f"Bearer {SPARE_KEY}")}

    # a complete save that changes a route waits until it has stayed put, then is used
    path.write_text(_realistic(fake.url, _dead_url(), alias="spare/spare-model"))
    state._checked = 0.0
    assert await routes.alias() == "messages says: hi"
    clock.advance(QUIET)
    state._checked = 0.0
    assert await routes.alias() == "chat says: hi"
    assert fake.last["body"]["model"] == "spare-model"


# --- SettingsWatch on the test's clock -------------------------------------------------

def _write(path, text: str, clock: _Clock, age: float = 0.0) -> None:
    """Save ``text``, its mtime ``age`` seconds before the clock's now."""
    path.write_text(text)
    then = round((clock.wall - age) * 1e9)
    os.utime(path, ns=(then, then))


def _watching(clock: _Clock, text: str):
    path = Paths.current().settings
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, text, clock, age=60.0)
    settings, _ = SettingsStore(path).load()
    return path, SettingsWatch(path, settings)


def test_a_valid_change_is_used_once_it_has_stayed_put(byecore_home, clock):
    path, watch = _watching(clock, _realistic("https://a.test", "https://b.test"))
    changed = _realistic("https://a.test", "https://b.test", alias="spare/spare-model")
    _write(path, changed, clock)
    assert watch.check() is None and watch.unsettled  # looked at again soon
    clock.advance(QUIET / 2)
    assert watch.check() is None
    clock.advance(QUIET / 2)
    assert watch.check().proxy.aliases == {"claude-*": "spare/spare-model"}
    assert watch.check() is None and watch.settings.proxy.aliases["claude-*"].startswith("sp")


def test_a_half_save_valid_at_every_line_is_never_used(byecore_home, clock):
    path, watch = _watching(clock, _realistic("https://a.test", "https://b.test"))
    good = watch.settings
    for cut in _line_cuts(good_text := _realistic("https://a.test", "https://b.test")):
        _write(path, good_text[:cut], clock)
        for _ in range(3):
            assert watch.check() is None
            clock.advance(QUIET / 4)
        _write(path, good_text, clock)  # the rest, within QUIET
        assert watch.check() is None
        assert watch.settings is good
    changed = good_text.replace('["spare-model"]\n', '["spare-model", "s2"]\n')
    assert changed != good_text
    _write(path, changed, clock)
    assert watch.check() is None
    clock.advance(QUIET)
    assert watch.check().providers["spare"].models == ["spare-model", "s2"]


def test_a_rewrite_while_waiting_starts_the_wait_again(byecore_home, clock):
    path, watch = _watching(clock, _text("https://up.test"))
    _write(path, _text("https://up.test", '["m2"]'), clock)
    assert watch.check() is None
    clock.advance(QUIET * 0.75)
    _write(path, _text("https://up.test", '["m3"]'), clock)  # same size, new bytes
    assert watch.check() is None
    clock.advance(QUIET * 0.5)  # m2 would have stayed QUIET by now, m3 has not
    assert watch.check() is None
    clock.advance(QUIET * 0.5)
    assert watch.check().providers["up"].models == ["m3"]


@pytest.mark.parametrize(("age", "mtime_fraction", "at_once"), [
    (1.5, 0.5, True),  # a fine file clock, written over SETTLE ago
    (0.5, 0.5, False),  # written just now
    (1.5, 0.0, False),  # a whole-second mtime may be rounded down by 2 s (FAT)
    (3.5, 0.0, True),
])
def test_a_file_written_long_ago_is_used_at_the_first_look(byecore_home, clock, age,
                                                           mtime_fraction, at_once):
    path, watch = _watching(clock, _text("https://up.test"))
    clock.wall = math.floor(clock.wall) + mtime_fraction + age
    _write(path, _text("https://up.test", '["m2"]'), clock, age=age)
    assert path.stat().st_mtime_ns % 1_000_000_000 == round(mtime_fraction * 1e9)
    found = watch.check()
    assert (found is not None and found.providers["up"].models == ["m2"]) is at_once


def test_bytes_that_changed_while_being_read_do_not_count(byecore_home, clock, monkeypatch):
    path, watch = _watching(clock, _text("https://up.test"))
    _write(path, _text("https://up.test", '["m2"]'), clock, age=30.0)  # looks long done…
    real_read = store._read

    def read_during_a_save(where):
        data = real_read(where)
        _write(where, _text("https://up.test", '["m3"]'), clock)  # …but a save is under way
        monkeypatch.setattr(store, "_read", real_read)
        return data

    monkeypatch.setattr(store, "_read", read_during_a_save)
    assert watch.check() is None  # m2 would have been used at once, being old
    assert store._read is real_read  # the file was read, and written to meanwhile
    assert watch.check() is None  # m3, just written
    clock.advance(QUIET)
    assert watch.check().providers["up"].models == ["m3"]
