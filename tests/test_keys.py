from __future__ import annotations

import pytest

from byecore_cli.providers.keys import BadKey, clean_key, mask_key, redact


@pytest.mark.parametrize("pasted", [
    "sk-abc", "  sk-abc  \n", "\tsk-abc\r\n", '"sk-abc"', "'sk-abc'", "Bearer sk-abc",
])
def test_pasted_keys_are_cleaned(pasted):
    key, notes = clean_key(pasted)
    assert key == "sk-abc"
    assert bool(notes) == (pasted != "sk-abc")


@pytest.mark.parametrize("bad", ["", " \n ", "sk-ab c", "sk-ab\ncd", '""'])
def test_unusable_keys_are_refused(bad):
    with pytest.raises(BadKey):
        clean_key(bad)


@pytest.mark.parametrize("key, masked", [
    ("sk-0123456789abcdefa1b2", "sk-…a1b2"),
    ("sk-ant-api03-0123456789abcdef", "sk-…cdef"),
    ("sk-abc", "sk-…"),
    ("abcdefghij", "…ij"),
    ("short", "…"),
    ("", ""),
])
def test_masking_never_shows_the_whole_key(key, masked):
    assert mask_key(key) == masked
    if key:
        assert key not in mask_key(key)


def test_redact_masks_an_echoed_key_in_text_and_bytes():
    key = "sk-live-0123456789abcdefWXYZ"
    assert redact(f"bad key {key}!", key) == "bad key sk-…WXYZ!"
    assert redact(f'{{"echo": "{key}"}}'.encode(), key) == b'{"echo": "sk-\xe2\x80\xa6WXYZ"}'
    assert redact("nothing here", None) == "nothing here"
    body = b"no key in here"
    assert redact(body, key) is body  # the hot path copies nothing
