"""Recipient addresses as a 7-bit reply carries them: an ASCII dot-atom local part, an IDNA domain."""

from __future__ import annotations

import re

from mailgate.replies._model import ReplyError

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9-]*|xn--[A-Za-z0-9-]+", re.IGNORECASE)
#: RFC 5321 4.5.3.1: local part, domain and whole path (less its brackets).
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254


def wire_address(address: str) -> str:
    """``address`` as it goes on the wire, its domain IDNA-encoded; ReplyError when that cannot be.

    Refused: an empty address (``no_recipient``); anything else a 7-bit message cannot carry to a
    mailbox (``unencodable_recipient``): a local part that is not an ASCII dot-atom (non-ASCII,
    quoted, a leading, trailing or doubled dot, an encoded word), a domain that is empty, not a
    host name or not IDNA-encodable, line breaks or white space anywhere, an address too long."""
    if not address or not address.strip():
        raise ReplyError("no_recipient")
    local, at, domain = address.rpartition("@")
    if not at or not local or len(local) > MAX_LOCAL or "=?" in local or not _DOT_ATOM.fullmatch(local):
        raise ReplyError("unencodable_recipient")
    result = f"{local}@{_domain(domain)}"
    if len(result) > MAX_ADDRESS:
        raise ReplyError("unencodable_recipient")
    return result


def _domain(domain: str) -> str:
    """An ASCII host name for ``domain``: as it is, or IDNA-encoded (stdlib IDNA 2003)."""
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except (UnicodeError, ValueError) as exc:
            raise ReplyError("unencodable_recipient") from exc
    labels = domain.split(".")
    if (
        len(domain) > MAX_DOMAIN
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TOP_LABEL.fullmatch(labels[-1])
    ):
        raise ReplyError("unencodable_recipient")
    return domain
