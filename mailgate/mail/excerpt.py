"""Sender text quoted back in a reply: short, and with no link a mail client would make clickable."""

from __future__ import annotations

import re

#: How much of a sender's text a reply quotes (a subject, a display name, a title line).
EXCERPT_CHARS = 60
_TLDS = (
    "com|net|org|info|biz|cn|hk|tw|mo|io|me|cc|co|tv|xyz|top|vip|club|site|online|shop|link|live|app|"
    "ru|uk|de|jp|kr|us|tk|ml|ga|cf|gq|pw|ws|in|su|fun|icu|work|ink|ltd|wang|gov|edu|mil|int|asia"
)
_LINK = re.compile(
    r"(?:[a-z][a-z0-9+.-]{0,15}://|(?:mailto|javascript|data|vbscript|tel|sms|callto|file):|www\.)[!-~]*"
    rf"|(?<![@A-Za-z0-9_.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9-])(?:[/:?#][!-~]*)?",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t]{2,}")
_OMITTED = {False: "（链接已略去）", True: "（鏈接已略去）"}


def strip_links(text: str, *, traditional: bool = False) -> str:
    """``text`` with URLs, ``www.`` names and bare host names replaced by a note that a link was left out."""
    if not _LINK.search(text):
        return text
    return _SPACES.sub(" ", _LINK.sub(_OMITTED[traditional], text)).strip()


def excerpt(text: str, limit: int = EXCERPT_CHARS, *, traditional: bool = False) -> str:
    """``text`` as a reply may quote it: links left out, at most ``limit`` characters (``…`` ends a cut)."""
    text = strip_links(text, traditional=traditional)
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
