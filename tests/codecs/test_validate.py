"""The shared client-input checks in byecore_cli.codecs.validate, and that every codec's
request decoder refuses a wrong type with the same message through them."""

from __future__ import annotations

import pytest

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.validate import arr, integer, number, obj, string


def refused(check, value, param="field.x", **kw) -> CodecError:
    with pytest.raises(CodecError) as caught:
        check(value, param, **kw)
    assert caught.value.param == param
    assert caught.value.info().status == 400
    return caught.value


def test_obj_returns_the_same_dict_and_refuses_everything_else():
    value = {"a": 1}
    assert obj(value, "p") is value
    assert obj({}, "p") == {}
    for wrong in (None, [], "{}", 1, True):
        assert refused(obj, wrong).message == "field.x must be an object"


def test_arr_returns_the_same_list_and_refuses_everything_else():
    value = [1]
    assert arr(value, "p") is value
    for wrong in (None, (), {}, "[]", 0):
        assert refused(arr, wrong).message == "field.x must be an array"


def test_string_refuses_none_unless_optional():
    assert string("", "p") == ""
    assert string("hi", "p", optional=True) == "hi"
    assert string(None, "p", optional=True) is None
    for wrong in (None, 1, b"x", ["a"]):
        assert refused(string, wrong).message == "field.x must be a string"
    # optional lets only None through, never another type
    assert refused(string, 0, optional=True).message == "field.x must be a string"


def test_number_takes_ints_and_floats_but_never_bools():
    assert number(0, "p") == 0
    assert number(0.5, "p") == 0.5
    assert number(None, "p", optional=True) is None
    for wrong in (True, False, None, "1", [1]):
        assert refused(number, wrong).message == "field.x must be a number"
    assert refused(number, True, optional=True).message == "field.x must be a number"


def test_integer_takes_ints_only_never_bools_floats_or_digit_strings():
    assert integer(7, "p") == 7
    assert integer(-1, "p") == -1
    assert integer(None, "p", optional=True) is None
    for wrong in (True, False, None, 1.0, 1.5, "1"):
        assert refused(integer, wrong).message == "field.x must be an integer"
    assert refused(integer, False, optional=True).message == "field.x must be an integer"


# --- the codecs use them -------------------------------------------------------------------

def _chat(**fields):
    from byecore_cli.codecs.chat.request import decode_request

    return decode_request({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                           **fields})


def _messages(**fields):
    from byecore_cli.codecs.messages.request import decode_request

    return decode_request({"model": "m", "max_tokens": 10,
                           "messages": [{"role": "user", "content": "hi"}], **fields})


def _responses(**fields):
    from byecore_cli.codecs.responses.request import decode_request

    return decode_request({"model": "m", "input": "hi", **fields})


def _gemini(**config):
    from byecore_cli.codecs.gemini.request import decode_request

    return decode_request({"model": "m", "generationConfig": config,
                           "contents": [{"role": "user", "parts": [{"text": "hi"}]}]})


@pytest.mark.parametrize("decode", [_chat, _messages, _responses])
def test_a_boolean_temperature_is_refused_alike_by_every_codec(decode):
    with pytest.raises(CodecError) as caught:
        decode(temperature=True)
    assert (caught.value.message, caught.value.param) == (
        "temperature must be a number", "temperature")


def test_gemini_refuses_a_boolean_temperature_the_same_way():
    with pytest.raises(CodecError) as caught:
        _gemini(temperature=True)
    assert caught.value.message.endswith("temperature must be a number")


@pytest.mark.parametrize("decode", [_chat, _responses])
def test_a_null_temperature_is_left_unset_where_the_codec_allows_null(decode):
    assert decode(temperature=None).temperature is None


@pytest.mark.parametrize("decode", [_chat, _messages])
def test_a_fractional_max_tokens_is_refused_as_not_an_integer(decode):
    # Chat used to say "must be a number" here, which 1.5 is; now it says what it wants.
    with pytest.raises(CodecError) as caught:
        decode(max_tokens=1.5)
    assert (caught.value.message, caught.value.param) == (
        "max_tokens must be an integer", "max_tokens")


def test_gemini_integers_still_accept_proto3_digit_strings_and_integral_floats():
    from byecore_cli.codecs.gemini.fields import integer as gemini_integer

    assert gemini_integer("1024", "p") == 1024
    assert gemini_integer("-3", "p") == -3
    assert gemini_integer(8.0, "p") == 8
    assert gemini_integer(5, "p") == 5
    for wrong in (True, 1.5, "1.5", "ten", None):
        assert refused(gemini_integer, wrong).message == "field.x must be an integer"


def test_responses_leaves_a_null_max_output_tokens_unset_and_refuses_a_float():
    assert _responses(max_output_tokens=None).max_tokens is None
    with pytest.raises(CodecError, match="^max_output_tokens must be an integer$"):
        _responses(max_output_tokens=2.5)


def test_every_codec_checks_types_with_the_shared_functions():
    # issue #11: one set of checks, not one copy per codec that can drift apart
    from byecore_cli.codecs import validate
    from byecore_cli.codecs.chat import request as chat
    from byecore_cli.codecs.gemini import fields
    from byecore_cli.codecs.messages import request as messages
    from byecore_cli.codecs.responses import items, response
    from byecore_cli.codecs.responses import request as responses

    for module in (chat, messages, items, response, fields):
        assert module.obj is validate.obj and module.arr is validate.arr, module.__name__
    assert chat.string is items.string is fields.text is validate.string
    assert chat.number is messages.number is fields.number is validate.number
    assert chat.integer is messages.integer is responses.integer is validate.integer
    assert responses.number is validate.number
