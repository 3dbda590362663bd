"""The SSE decoder at every split point of realistic streams."""

from __future__ import annotations

import pytest

from byecore_cli.codecs.sse import SSEDecoder, SSEEvent, encode_event

STREAM = (
    b": keep-alive\r\n\r\n"
    b"event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
    b"data: line one\ndata: line two\n\n"
    b"data:no-space\rid: 7\r\r"
    b": comment in the middle\n"
    b"event: ping\ndata: \n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent('{"a":1}', "message_start"),
    SSEEvent("line one\nline two"),
    SSEEvent("no-space", None, "7"),
    SSEEvent("", "ping", "7"),
    SSEEvent("[DONE]", None, "7"),
]


def _decode(chunks):
    decoder = SSEDecoder()
    out = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out + decoder.flush()


def test_whole_stream():
    assert _decode([STREAM]) == EXPECTED


@pytest.mark.parametrize("split", range(1, len(STREAM)))
def test_every_split_point(split):
    assert _decode([STREAM[:split], STREAM[split:]]) == EXPECTED


def test_one_byte_at_a_time():
    assert _decode([STREAM[i:i + 1] for i in range(len(STREAM))]) == EXPECTED


# The same stream with LF-only line ends: the decoder's fast path (what LLM APIs send).
LF_STREAM = (
    b": keep-alive\n\n"
    b"event: message_start\ndata: {\"a\":1}\n\n"
    b"data: line one\ndata: line two\n\n"
    b"data:no-space\nid: 7\n\n"
    b": comment in the middle\n"
    b"event: ping\ndata: \n\n\n"
    b"data: [DONE]\n\n"
)


@pytest.mark.parametrize("split", range(1, len(LF_STREAM)))
def test_every_split_point_lf_only(split):
    assert _decode([LF_STREAM[:split], LF_STREAM[split:]]) == EXPECTED


def test_one_byte_at_a_time_lf_only():
    assert _decode([LF_STREAM[i:i + 1] for i in range(len(LF_STREAM))]) == EXPECTED


def test_lf_then_cr_stream_at_every_split_point():
    again = [SSEEvent(e.data, e.event, "7") for e in EXPECTED]  # the id carries over
    for split in range(1, len(LF_STREAM + STREAM)):
        raw = LF_STREAM + STREAM
        assert _decode([raw[:split], raw[split:]]) == EXPECTED + again


def test_unterminated_last_event_is_flushed():
    assert _decode([b"data: partial"]) == [SSEEvent("partial")]
    assert _decode([b"event: e\ndata: a\ndata: b"]) == [SSEEvent("a\nb", "e")]
    assert _decode([b"data: a\n"]) == [SSEEvent("a")]


def test_multibyte_utf8_split_inside_a_character():
    raw = "data: héllo ✓\n\n".encode()
    for split in range(1, len(raw)):
        assert _decode([raw[:split], raw[split:]]) == [SSEEvent("héllo ✓")]


def test_encoder_round_trips():
    for event in (SSEEvent("x", "e"), SSEEvent("a\nb"), SSEEvent("{}")):
        assert _decode([encode_event(event.data, event.event)]) == [event]


# -- the framer the byte relay cuts with -------------------------------------------------

def _frame(chunks):
    """What the relay does: cut each read at its last whole event; the rest waits."""
    from byecore_cli.codecs.sse import last_event_end

    pieces, tail = [], b""
    for chunk in chunks:
        data = tail + chunk
        cut = last_event_end(data)
        pieces.append(data[:cut]) if cut else None
        tail = data[cut:]
    return pieces, tail


def _check_framing(stream: bytes, chunks: list[bytes]) -> None:
    pieces, tail = _frame(chunks)
    assert b"".join(pieces) + tail == stream  # not a byte lost, added or moved
    whole = []
    for piece in pieces:  # each piece is whole events: decoded alone, nothing is left over
        decoder = SSEDecoder()
        events = decoder.feed(piece)
        assert decoder.flush() == []
        whole += [(e.data, e.event) for e in events]
    assert whole == [(e.data, e.event) for e in EXPECTED]
    assert tail.strip(b"\r\n") == b""  # at most the LF of a CR the last cut ended on


@pytest.mark.parametrize("split", range(1, len(STREAM)))
def test_the_framer_cuts_whole_events_at_every_split_point(split):
    _check_framing(STREAM, [STREAM[:split], STREAM[split:]])


def test_the_framer_byte_at_a_time():
    _check_framing(STREAM, [STREAM[i:i + 1] for i in range(len(STREAM))])


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n"])
def test_the_framer_ends_each_event_of_any_line_ending(ending):
    from byecore_cli.codecs.sse import event_ends, last_event_end

    one = b"data: {}" + ending + ending
    stream = one * 3
    assert event_ends(stream) == [len(one), 2 * len(one), 3 * len(one)]
    assert last_event_end(stream + b"data: {") == 3 * len(one)
    assert last_event_end(b"data: {}" + ending) == 0  # a line end, not yet a blank line
    for split in range(1, len(stream)):
        pieces, tail = _frame([stream[:split], stream[split:]])
        assert b"".join(pieces) + tail == stream and tail in (b"", b"\n")


def test_a_crlf_is_one_line_end_even_across_chunks():
    from byecore_cli.codecs.sse import event_ends

    assert event_ends(b"data: a\r\ndata: b\r\n") == []  # two lines, no blank one
    assert event_ends(b"data: a\r\n\r\n") == [11]
    pieces, tail = _frame([b"data: a\r", b"\ndata: b\r\n", b"\r\n"])
    assert pieces == [b"data: a\r\ndata: b\r\n\r\n"] and tail == b""


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_event_spans_gives_each_events_bytes_and_what_it_decodes_to(ending):
    from byecore_cli.codecs.sse import event_spans

    first = b": comment" + ending + b"event: a" + ending + b"data: 1" + ending + ending
    second = b"data: 2" + ending + b"data: 3" + ending + ending
    last = b"id: 9" + ending + b"data: 4"  # no blank line: the rest of the block
    block = first + second + last
    spans = list(event_spans(block))
    assert [block[start:end] for start, end, _ in spans] == [first, second, last]
    assert [events for _, _, events in spans] == [
        [SSEEvent("1", "a")], [SSEEvent("2\n3")], [SSEEvent("4", None, "9")]]


@pytest.mark.parametrize("block", [
    b"data: 1\r\n\r\ndata: 2\r\n\r\n",  # CRLF throughout: byte searches
    b"data: 1\r\n\r\ndata: 2\n\n",  # mixed: the exact framer
    b"data: 1\r\n\ndata: 2\r\rdata: 3\n\r\n",
    b"data: 1\r\n\r\n\r\ndata: 2\r\n\r\n",
    b"event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r",  # a CR that may be half a CRLF
])
def test_the_framers_shortcuts_cut_where_the_line_rules_do(block):
    import re

    from byecore_cli.codecs.sse import event_ends, last_event_end

    rule = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
    ends = [m.end() for m in rule.finditer(block)]
    assert event_ends(block) == ends
    whole, last = last_event_end(block), (ends[-1] if ends else 0)
    assert whole >= last and block[last:whole].strip(b"\r\n") == b""  # empty lines at most


def test_stray_json_lines_are_kept_only_when_asked():
    from byecore_cli.codecs.sse import STRAY, SSEDecoder

    raw = b'data: {"a":1}\n\n{\n  "error": {"code": 429}\n}\n\n: comment\n\ndata: 2\n\n'
    assert [e.data for e in SSEDecoder().feed(raw)] == ['{"a":1}', "2"]
    events = SSEDecoder(stray=True).feed(raw)
    assert [(e.event, e.data) for e in events] == [
        (None, '{"a":1}'), (STRAY, '{\n  "error": {"code": 429}\n}'), (None, "2")]
