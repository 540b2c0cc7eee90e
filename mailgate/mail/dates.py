"""Dates as units write them in the 落款: 2004年1月8日, 2004-01-08, 2004.1.8, 2004/1/8, 二〇〇四年一月八日."""

from __future__ import annotations

import datetime as dt
import re


def parse_date(text: str) -> dt.date | None:
    """The date ``text`` names (the whole string, surrounding white space allowed), or None."""
    raise NotImplementedError


def find_date(text: str) -> tuple[dt.date | None, re.Match[str]] | None:
    """The first thing in ``text`` written like a date, with its match; the date is None when it is
    written like one but is not a real date (2004年2月30日)."""
    raise NotImplementedError
