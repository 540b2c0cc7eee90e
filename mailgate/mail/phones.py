"""Telephone numbers in the 落款: landlines with or without area code and extension, 11-digit mobiles."""

from __future__ import annotations

import re
from collections.abc import Iterator

_D = "[0-9０-９]"
_HYPHENS = "-－‐–—"
_HYPHEN = f"[{_HYPHENS}]"
_S = "[ \t\u00a0\u3000]"
#: Between digit groups: one hyphen (spaces around it allowed) or spaces.
_SEP = f"(?:{_S}*{_HYPHEN}{_S}*|{_S}+)"
_EXT_WORD = r"(?:转|轉|分机|分機|ext\.?|x|\#)"
_COUNTRY = f"(?:(?:[+＋]|00)86{_SEP}?)"

_AREA_DIGITS = f"[1-9１-９]{_D}{{1,2}}"  # the area code after its leading 0: 20, 755

_PHONE = re.compile(
    rf"""
    (?:
        {_COUNTRY}?[1１][3-9３-９]{_D}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}}         # mobile: 138-0013-8000
      | (?:                                                              # area code:
            [(（]{_S}*[0０]{_AREA_DIGITS}{_S}*[)）]{_S}*                     #   (020)
          | [0０]{_AREA_DIGITS}{_SEP}?                                      #   020-
          | {_COUNTRY}[(（]?{_S}*[0０]?{_AREA_DIGITS}{_S}*[)）]?{_SEP}?       #   +86 (20)
        )?
        [2-9２-９]{_D}{{2,3}}{_SEP}?{_D}{{4}}                                # 7-8 digits: 3862-2000
        (?:{_S}*(?:{_EXT_WORD}{_S}*[:：]?|{_HYPHEN}){_S}*{_D}{{1,6}})?       # extension: 转123, -123
    )
    """,
    re.VERBOSE | re.IGNORECASE,
)

#: Anything phone-shaped: digits joined by separators, parentheses and extension words.
_JOIN = rf"(?:[{_HYPHENS}()（） \t\u00a0\u3000]|{_EXT_WORD}[:：]?)"
_CANDIDATE = re.compile(rf"(?<![0-9０-９])[+＋]?[(（]?{_D}(?:{_JOIN}*{_D})*", re.IGNORECASE)
_GAP = re.compile(f"{_S}+")
_DIGITS = re.compile(_D)


def is_valid_phone(text: str) -> bool:
    """Whether ``text`` (one number, separators and full-width digits allowed) is a plausible
    mainland landline (7-8 digits, optional 0-led area code, optional extension) or an 11-digit
    mobile starting with 1."""
    return _PHONE.fullmatch(text.strip()) is not None


def _valid_prefix(candidate: re.Match[str]) -> re.Match[str] | None:
    """The longest valid phone that starts ``candidate`` and ends at its end or before a space."""
    text, start = candidate.string, candidate.start()
    ends = [candidate.end()] + [
        gap.start() for gap in reversed(list(_GAP.finditer(text, start, candidate.end())))
    ]
    for end in ends:
        match = _PHONE.fullmatch(text, start, end)
        if match is not None:
            return match
    return None


def iter_phones(text: str) -> Iterator[re.Match[str]]:
    """Every phone-like run in ``text`` (at least 7 digits), in order; a valid number is cut off
    at the space that ends it (``"38622000 2004年"`` gives ``38622000``)."""
    pos = 0
    while (candidate := _CANDIDATE.search(text, pos)) is not None:
        valid = _valid_prefix(candidate)
        if valid is not None:
            yield valid
            pos = valid.end()
        else:
            if len(_DIGITS.findall(candidate.group())) >= 7:
                yield candidate
            pos = candidate.end()


def find_phone(text: str) -> re.Match[str] | None:
    """The first run in ``text`` that looks like a phone number (valid or not)."""
    return next(iter_phones(text), None)
