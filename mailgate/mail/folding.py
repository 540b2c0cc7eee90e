"""Fold text for comparison: width, Traditional/Simplified script, white space and punctuation."""

from __future__ import annotations


def fold(text: str) -> str:
    """A comparison key: NFKC width folding, Traditional→Simplified, no white space or punctuation,
    lower case. ``fold("【越秀區】 Ｇ Ｄ Ｐ。") == fold("越秀区gdp")``."""
    raise NotImplementedError


def to_simplified(text: str) -> str:
    """Traditional → Simplified script (characters only; nothing else changes)."""
    raise NotImplementedError


def to_traditional(text: str) -> str:
    """Simplified → Traditional script, for notices configured in Traditional Chinese."""
    raise NotImplementedError
