"""Fold text for comparison: width, Traditional/Simplified script, white space and punctuation."""

from __future__ import annotations

import functools
import unicodedata

import opencc

#: Unicode general categories dropped by ``fold``: punctuation (P*), symbols (S*), separators (Z*),
#: control characters (Cc: tabs, newlines) and format characters (Cf: zero-width space/joiners, BOM).
_DROPPED = frozenset(
    ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf")
)
#: Strings up to this length are cached by ``fold`` and the script converters (titles, unit names).
_CACHED_LEN = 200


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=4096)
def _convert_short(config: str, text: str) -> str:
    return str(_converter(config).convert(text))


def _convert(config: str, text: str) -> str:
    if not text:
        return text
    if len(text) <= _CACHED_LEN:
        return _convert_short(config, text)
    return str(_converter(config).convert(text))


@functools.lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    simplified = _convert("t2s", unicodedata.normalize("NFKC", text))
    kept = "".join(ch for ch in simplified if unicodedata.category(ch) not in _DROPPED)
    # Composed again: dropping a spacing accent's space (NFKC "´" is " " + U+0301) or case
    # folding can leave a sequence NFKC would compose, and the key must be a fixed point.
    return unicodedata.normalize("NFKC", kept.casefold())


def fold(text: str) -> str:
    """A comparison key: NFKC width folding, Traditional→Simplified, no white space or punctuation,
    lower case. ``fold("【越秀區】 Ｇ Ｄ Ｐ。") == fold("越秀区gdp")``."""
    if len(text) <= _CACHED_LEN:
        return _fold_short(text)
    return _fold(text)


def to_simplified(text: str) -> str:
    """Traditional → Simplified script (characters only; nothing else changes)."""
    return _convert("t2s", text)


def to_traditional(text: str) -> str:
    """Simplified → Traditional script, for notices configured in Traditional Chinese."""
    return _convert("s2t", text)
