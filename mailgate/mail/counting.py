"""Counting 字 the way officers count them: Word's 字數統計, or every visible character."""

from __future__ import annotations

import enum


class CountMode(enum.StrEnum):
    WORD = "word"  # Word's 字數統計: each CJK char / full-width mark 1, each run of other non-space chars 1
    CHARS = "chars"  # every character that is not white space (U+3000 and zero-width count as space)


def count_zi(text: str, mode: CountMode = CountMode.WORD) -> int:
    """Number of 字 in ``text`` under ``mode`` (see SPEC.md, "Counting 字")."""
    raise NotImplementedError
