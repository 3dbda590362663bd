"""diagnose.network_finding: low-level connection errors in plain words, without a network.

The errors are built the way aiohttp raises them; tests/check/test_check_faults.py
covers the same paths end to end against real sockets.
"""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest

from byecore_cli.check import diagnose

URL = "https://gw.example:8443/v1/chat/completions"


def _connector_error(os_error: OSError) -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("gw.example", 8443, True, True, None, None,
                                              None)
    return aiohttp.ClientConnectorError(key, os_error)


def _find(exc: BaseException, *, answering: bool = False, url: str = URL):
    return diagnose.network_finding(exc, url, 30, answering, 5)


def test_refused_connection_names_the_address_and_is_final():
    problem, fix, at_connect = _find(_connector_error(ConnectionRefusedError(111, "x")))
    assert problem == "nothing is listening at gw.example:8443"
    assert "port" in fix and at_connect


def test_unknown_host_says_it_does_not_resolve():
    exc = _connector_error(OSError(-2, "Name or service not known"))
    problem, _, at_connect = _find(exc)
    assert problem == "the host name gw.example does not resolve" and at_connect


def test_plain_http_behind_an_https_url_suggests_http():
    tls = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    try:
        raise aiohttp.ClientOSError("boom") from tls
    except aiohttp.ClientOSError as exc:
        problem, fix, at_connect = _find(exc)
    assert "answers in plain HTTP" in problem
    assert fix == "use http://gw.example:8443 in the base URL" and at_connect


@pytest.mark.parametrize(("answering", "words"), [
    (False, "accepted the connection but sent no answer within 30 s"),
    (True, "began to answer, then went silent for 30 s"),
])
def test_a_read_timeout_says_whether_the_answer_had_begun(answering, words):
    problem, _, at_connect = _find(asyncio.TimeoutError(), answering=answering)
    assert words in problem and not at_connect


def test_a_connect_timeout_names_the_connect_limit():
    error = getattr(aiohttp, "ConnectionTimeoutError", None)
    if error is None:
        pytest.skip("aiohttp < 3.10 has no ConnectionTimeoutError")
    problem, _, at_connect = _find(error())
    assert problem == "could not connect to gw.example:8443 within 5 s" and at_connect


def test_a_closed_connection_on_http_hints_at_https():
    problem, fix, at_connect = _find(aiohttp.ServerDisconnectedError(),
                                     url="http://gw.example:443/v1")
    assert problem == "gw.example:443 closed the connection before answering"
    assert "try https://gw.example:443" in fix and not at_connect
