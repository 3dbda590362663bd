"""The proxy's usage rows are priced with the settings' own prices over the shipped ones."""

from __future__ import annotations

import sqlite3

import pytest

from byecore_cli.config.models import ModelPrice
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from tests.proxy.conftest import one_provider


async def test_a_price_in_the_settings_prices_the_proxys_rows(fake, aiohttp_server, sdk):
    settings = one_provider(fake, "chat")
    settings = settings.model_copy(update={"prices": {"up-model": ModelPrice(
        input=1_000_000.0, output=0.0)}})  # a dollar a token in: easy to see
    app = create_app(settings)
    server = await aiohttp_server(app)
    client = sdk.openai(str(server.make_url("")).rstrip("/"))
    answer = await client.chat.completions.create(
        model="up-model", messages=[{"role": "user", "content": "hi"}])
    assert app[STATE].usage.flush()
    db = sqlite3.connect(Paths.current().usage_db)
    try:
        [(tokens, cost)] = db.execute("SELECT input_tokens, cost_usd FROM requests")
    finally:
        db.close()
    assert tokens == answer.usage.prompt_tokens > 0
    assert cost == pytest.approx(tokens * 1.0)
