"""Splitting an item's text into title, 正文 and 落款, and reading the 落款's fields."""

from __future__ import annotations

from mailgate.mail.model import ItemParts, Signature


def split_item(body: str) -> ItemParts:
    """Title (first non-empty line), 正文, the 落款 and 來源 of ``body``; never raises."""
    raise NotImplementedError


def parse_signature(block: str) -> Signature | None:
    """Read a 落款 block (multi-line labelled form or the one-line parenthesised form)."""
    raise NotImplementedError
