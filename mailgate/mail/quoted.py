"""Cutting quoted history (replies and forwards) off the end of an item's text."""

from __future__ import annotations


def strip_quoted(text: str) -> str:
    """``text`` without the quoted history that mail clients append below it."""
    raise NotImplementedError
