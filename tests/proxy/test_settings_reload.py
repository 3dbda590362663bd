"""A running proxy follows settings.toml through editors' saves without a blink of demo.

Editors save by truncating the file and writing it again, or by deleting and recreating
it; the proxy must never take the empty, missing or half-written file in between for
"no provider saved" and answer with the demo provider.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import aiohttp

from byecore_cli.config.store import SettingsStore, SettingsWatch
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


def _rewrite(path, text: str, rounds: int) -> None:
    """Save ``text`` again and again, each time the way one kind of editor does."""
    cut = text.index("base_url") + 16  # inside the URL string: not TOML until the rest
    for n in range(rounds):
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

    # a complete, valid save is used at the next look
    path.write_text(_text(fake.url, extra=f'\n[providers.more]\nbase_url = "{fake.url}"\n'
                          'protocols = ["chat"]\n'))
    state._checked = 0.0
    state.refresh()  # what every inference and model-list request does first
    assert sorted(state.settings.providers) == ["more", "up"]


async def test_a_rewrite_that_keeps_mtime_and_size_is_still_seen(aiohttp_server, fake,
                                                                local_key):
    path, state, url = await _serve(aiohttp_server, _text(fake.url, '["m1"]'))
    before = path.stat()
    path.write_text(_text(fake.url, '["m2"]'))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime, as on FAT
    assert path.stat().st_size == before.st_size
    state._checked = 0.0
    async with aiohttp.ClientSession() as session, session.get(
            url + "/v1/models", headers={"Authorization": f"Bearer {local_key}"}) as resp:
        assert [m["id"] for m in (await resp.json())["data"]] == ["m2"]


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
        await _sleep(0.1)
    assert shown == []


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


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
    assert watch.check().providers["up"].models == ["m9"]


async def test_count_tokens_follows_a_saved_edit(aiohttp_server, fake, local_key):
    """count_tokens routes like every other call, so it must see the saved settings too."""
    path, state, url = await _serve(aiohttp_server, _text(fake.url, '["m1"]'))
    path.write_text(_text(fake.url, '["m1", "m2"]'))
    state._checked = 0.0
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/messages/count_tokens",
            json={"model": "m2", "messages": [{"role": "user", "content": "hi"}]},
            headers={"x-api-key": local_key, "anthropic-version": "2023-06-01"}) as resp:
        assert resp.status == 200
    assert state.settings.providers["up"].models == ["m1", "m2"]
