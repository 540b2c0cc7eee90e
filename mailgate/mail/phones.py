"""Telephone numbers in the 落款: landlines with or without area code and extension, 11-digit mobiles."""

from __future__ import annotations

import re


def is_valid_phone(text: str) -> bool:
    """Whether ``text`` (one number, separators and full-width digits allowed) is a plausible
    mainland landline (7-8 digits, optional 0-led area code, optional extension) or an 11-digit
    mobile starting with 1."""
    raise NotImplementedError


def find_phone(text: str) -> re.Match[str] | None:
    """The first run in ``text`` that looks like a phone number (valid or not)."""
    raise NotImplementedError
