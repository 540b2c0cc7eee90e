"""Writing a reply's bytes directly: RFC 2047 headers and a base64 UTF-8 body, CRLF line ends."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from email.header import Header
from email.utils import format_datetime, formataddr

_CRLF = "\r\n"


def header(name: str, value: str) -> str:
    """One header field; non-ASCII values as RFC 2047 encoded words, folded under 78 columns."""
    if value.isascii() and len(name) + len(value) < 77:
        return f"{name}: {value}"
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name)
    return f"{name}: {encoded.encode(linesep=_CRLF)}"


def address(display_name: str, addr_spec: str) -> str:
    """``display name <addr>`` with the name encoded as needed."""
    return formataddr((display_name, addr_spec), charset="utf-8")


def date(when: dt.datetime) -> str:
    return format_datetime(when)


def message(headers: Sequence[tuple[str, str]], body: str) -> bytes:
    """The whole message: the given header fields, MIME headers for a UTF-8 text body, the body."""
    lines = [
        header(name, value) if name not in _STRUCTURED else f"{name}: {value}" for name, value in headers
    ]
    lines += [
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
    ]
    text = body.replace("\r\n", "\n").replace("\n", _CRLF)
    encoded = base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", _CRLF)
    return (_CRLF.join(lines) + _CRLF + _CRLF + encoded).encode("ascii")


#: Fields whose values are already in wire form (addresses are encoded by ``address``).
_STRUCTURED = frozenset({"From", "To", "Message-ID", "In-Reply-To", "References", "Date"})
