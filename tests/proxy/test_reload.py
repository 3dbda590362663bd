"""The proxy picks up an edited settings file without a restart."""

from __future__ import annotations

import asyncio

from byecore_cli.config.store import SettingsStore
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from tests.proxy.conftest import UPSTREAM_KEY


def _write(path, url: str, models: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'default_provider = "up"\n\n[providers.up]\nbase_url = "{url}"\n'
                    f'protocols = ["chat"]\nkey = "{UPSTREAM_KEY}"\nmodels = {models!r}\n'
                    .replace("'", '"'))


async def test_a_provider_added_while_serving_is_used(aiohttp_server, fake, sdk):
    path = Paths.current().settings
    settings, _ = SettingsStore(path).load()  # nothing saved yet: the demo provider answers
    app = create_app(settings, settings_path=path)
    server = await aiohttp_server(app)
    client = sdk.openai(str(server.make_url("")).rstrip("/"))

    first = await client.chat.completions.create(
        model="m1", messages=[{"role": "user", "content": "hi"}])
    assert "demo" in first.choices[0].message.content and not fake.requests

    _write(path, fake.url, ["m1"])  # what `byecore provider add` does meanwhile
    for _ in range(100):  # a change is used once it has stayed put a moment (QUIET)
        app[STATE]._checked = 0.0  # skip the once-a-second wait
        second = await client.chat.completions.create(
            model="m1", messages=[{"role": "user", "content": "hi"}])
        if fake.requests:
            break
        await asyncio.sleep(0.05)
    assert fake.requests and fake.last["body"]["model"] == "m1"
    assert "demo" not in second.choices[0].message.content

    path.write_text(path.read_text().replace('protocols = ["chat"]', 'protocols = ["grpc"]'))
    app[STATE]._checked = 0.0
    third = await client.chat.completions.create(  # a broken edit keeps the last good ones
        model="m1", messages=[{"role": "user", "content": "hi"}])
    assert third.choices[0].message.content == second.choices[0].message.content
    assert len(fake.requests) == 2
