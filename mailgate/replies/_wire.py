"""Writing a reply's bytes directly: RFC 2047 headers and a base64 UTF-8 body, CRLF line ends."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Sequence
from email.header import Header
from email.utils import format_datetime

_CRLF = "\r\n"
_LINE = 78
#: A display name that may go out as it is: atext and spaces, nothing a parser reads as special
#: (no quotes, brackets, commas, and no ``=`` or ``?`` that could pass for an encoded word).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*")


def header(name: str, value: str) -> str:
    """One header field; non-ASCII values as RFC 2047 encoded words, folded under 78 columns."""
    if value.isascii() and "=?" not in value and len(name) + len(value) < _LINE - 1:
        return f"{name}: {value}"
    plain = value.isascii() and "=?" not in value
    encoded = Header(value, "us-ascii" if plain else "utf-8", header_name=name)
    return f"{name}: {encoded.encode(linesep=_CRLF)}"


def address(field: str, display_name: str, addr_spec: str) -> str:
    """The value of address field ``field``: ``display name <addr>``, the name encoded and folded as needed.

    ``addr_spec`` must already be in wire form (see ``_address.wire_address``)."""
    if not display_name:
        return addr_spec
    if _PLAIN_NAME.fullmatch(display_name) and len(field) + len(display_name) + len(addr_spec) + 5 <= _LINE:
        return f"{display_name} <{addr_spec}>"
    encoded = Header(display_name, "utf-8", header_name=field).encode(linesep=_CRLF)
    last = encoded.rsplit(_CRLF, 1)[-1]
    width = len(last) + (len(field) + 2 if last == encoded else 0)
    return f"{encoded}{' ' if width + len(addr_spec) + 3 <= _LINE else _CRLF + ' '}<{addr_spec}>"


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
