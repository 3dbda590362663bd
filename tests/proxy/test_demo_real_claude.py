"""The real Claude Code finishes a task on the offline demo provider, in a few requests.

With no provider saved, ``byecore proxy`` answers with its demo provider. The demo used
to call the first tool a client offers; Claude Code offers ``Agent`` first, so every
answer spawned a sub-agent that did the same: 2,043 requests a minute, never ending.

Here the proxy's app runs in-process with no provider, on a socket bound to port 0, with
a middleware that counts what reaches it. ``claude -p`` runs in a throwaway HOME with
``--dangerously-skip-permissions`` (so a tool call really runs, as a user trying the demo
would allow). The test is skipped only when the ``claude`` binary is absent (set
``BYECORE_CLIENT_BIN``, as ``.ci/run`` does). Verified with Claude Code 2.1.332.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from aiohttp import web

from byecore_cli.config.models import Settings
from byecore_cli.proxy.app import create_app
from tests.clients.test_real_clients import _binary, _client_env, _needs
from tests.proxy.test_real_clients_proxy import _run

# A demo task ends after one tool round: the first request, the one carrying the tool's
# result, and room for the side calls Claude Code may make (a title, a quota probe).
MAX_REQUESTS = 6


@_needs("claude")
async def test_claude_code_finishes_a_task_on_the_demo_provider(local_key):
    seen: list[str] = []

    @web.middleware
    async def count(request: web.Request, handler):
        seen.append(f"{request.method} {request.path_qs}")
        return await handler(request)

    app = create_app(Settings())  # nothing saved: the demo provider answers
    app.middlewares.insert(0, count)
    home = Path(os.environ["HOME"])
    work = home / "work"
    work.mkdir(parents=True)
    (work / "notes.txt").write_text("hello\n")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        port = listener.getsockname()[1]
        env = _client_env(home)
        env.update(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}",
                   ANTHROPIC_AUTH_TOKEN=local_key,
                   # Claude Code refuses --dangerously-skip-permissions as root (CI
                   # containers) unless told it runs in a sandbox, which this HOME is.
                   IS_SANDBOX="1")
        argv = [_binary("claude"), "-p", "list the files here",
                "--dangerously-skip-permissions"]
        code, out, err = await _run(argv, work, env, timeout=120)
    finally:
        await runner.cleanup()
        listener.close()
    inference = [s for s in seen if s.startswith("POST /v1/messages")]
    why = (len(seen), seen[:10], out[-1000:], err[-2000:])
    assert code == 0, why
    assert 2 <= len(inference) <= MAX_REQUESTS, why  # one tool round, then an answer
    assert "The tool answered" in out, why
