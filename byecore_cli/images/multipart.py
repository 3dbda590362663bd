"""A ``multipart/form-data`` body read, and changed field by field, byte for byte.

An image edit arrives as a form: its images, a mask, and text fields (``prompt``,
``model``, ``size``, ``n``…). The proxy must read ``model`` and ``size`` and may have to
change them, but the images must reach the upstream exactly as the client sent them.
So the body is never rebuilt: ``Form`` finds each part's bytes by the boundary (RFC 7578:
``--B`` CRLF, headers, a blank line, the content, CRLF ``--B``, and ``--B--`` at the
end), and ``changed`` splices only the values it is given, a new field going in just
before the closing delimiter. Every other byte, boundary and header stays where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp.helpers import parse_mimetype
from aiohttp.multipart import parse_content_disposition


class FormError(ValueError):
    """A body that is not the multipart form its Content-Type says."""


@dataclass(frozen=True, slots=True)
class Part:
    name: str | None
    filename: str | None  # set for a file (an image, a mask)
    start: int  # where the content begins in the body
    end: int  # where it ends (the CRLF before the next delimiter)


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` Content-Type, else None."""
    mime = parse_mimetype(content_type or "")
    if (mime.type, mime.subtype) != ("multipart", "form-data"):
        return None
    boundary = mime.parameters.get("boundary", "")
    # RFC 2046: 1 to 70 characters
    return boundary.encode("latin-1", "replace") if 0 < len(boundary) <= 70 else None


class Form:
    def __init__(self, body: bytes, boundary: bytes) -> None:
        self.body = body
        self.parts: list[Part] = []
        self.delimiter = delim = b"--" + boundary
        if body.startswith(delim):
            at = 0
        else:  # a preamble first
            at = body.find(b"\r\n" + delim)
            if at < 0:
                raise FormError("the body has none of the boundary its Content-Type names")
            at += 2
        while True:
            after = at + len(delim)
            if body.startswith(b"--", after):
                self.close_at = at  # the closing delimiter: new fields go in before it
                return
            line_end = body.find(b"\r\n", after)
            if line_end < 0 or body[after:line_end].strip(b" \t"):
                raise FormError("a boundary line is not followed by a line end")
            head_at = line_end + 2
            if body.startswith(b"\r\n", head_at):  # a part without headers
                head, start = b"", head_at + 2
            else:
                head_end = body.find(b"\r\n\r\n", head_at)
                if head_end < 0:
                    raise FormError("a part's headers never end")
                head, start = body[head_at:head_end], head_end + 4
            end = body.find(b"\r\n" + delim, start)
            if end < 0:
                raise FormError("the form ends before its closing boundary (cut short?)")
            name, filename = _disposition(head)
            self.parts.append(Part(name, filename, start, end))
            at = end + 2

    @classmethod
    def parse(cls, body: bytes, content_type: str) -> Form:
        boundary = boundary_of(content_type)
        if boundary is None:
            raise FormError("the Content-Type is not multipart/form-data with a boundary")
        return cls(body, boundary)

    def fields(self, name: str) -> list[Part]:
        return [p for p in self.parts if p.name == name]

    def value(self, name: str) -> str | None:
        """The text of the one field ``name`` (None when absent); ``FormError`` when the
        form holds it twice or as a file, or it is not UTF-8."""
        found = self.fields(name)
        if not found:
            return None
        if len(found) > 1:
            raise FormError(f"the form has {len(found)} {name!r} fields: send one")
        part = found[0]
        if part.filename is not None:
            raise FormError(f"the form's {name!r} field is a file: send it as text")
        try:
            return self.body[part.start:part.end].decode("utf-8")
        except UnicodeDecodeError:
            raise FormError(f"the form's {name!r} field is not UTF-8 text") from None

    def files(self) -> int:
        return sum(p.filename is not None for p in self.parts)

    def changed(self, values: dict[str, str]) -> bytes:
        """The body with each text field in ``values`` set (added if absent); every
        other byte as it came."""
        if not values:
            return self.body
        edits: list[tuple[int, int, bytes]] = []
        for name, text in values.items():
            found = self.fields(name)
            data = text.encode("utf-8")
            if found:
                edits.append((found[0].start, found[0].end, data))
            else:
                quoted = name.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8")
                edits.append((self.close_at, self.close_at, self.delimiter + b"\r\n"
                              b'Content-Disposition: form-data; name="' + quoted + b'"\r\n'
                              b"\r\n" + data + b"\r\n"))
        out, at = [], 0
        for start, end, data in sorted(edits, key=lambda e: e[0]):
            out += [self.body[at:start], data]
            at = end
        out.append(self.body[at:])
        return b"".join(out)


def _disposition(head: bytes) -> tuple[str | None, str | None]:
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-disposition":
            _, params = parse_content_disposition(value.decode("utf-8", "replace").strip())
            return params.get("name"), params.get("filename")
    return None, None
