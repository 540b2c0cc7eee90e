"""Dates as units write them in the 落款: 2004年1月8日, 2004-01-08, 2004.1.8, 2004/1/8, 二〇〇四年一月八日."""

from __future__ import annotations

import datetime as dt
import re

_DIGIT = "0-9０-９"
#: Digits of a year written in Chinese numerals; 〇 is also typed as 零, ○, O/o (二OO四年) or 0.
_YEAR_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | dict.fromkeys("零○OoＯｏ0０", 0)
_CN_YEAR = "[〇零○OoＯｏ0０一二三四五六七八九]"
_CN_NUM = "[一二三四五六七八九十]"
_SPACE = r"[ \t\u3000]*"
_DAY_MARK = "[日号號]"

_DATE = re.compile(
    rf"""
    (?<![{_DIGIT}])
    (?:
        (?P<y>[{_DIGIT}]{{4}}){_SPACE}
        (?:
            年{_SPACE}(?P<m>[{_DIGIT}]{{1,2}}){_SPACE}月{_SPACE}(?P<d>[{_DIGIT}]{{1,2}})(?![{_DIGIT}])
            (?:{_SPACE}{_DAY_MARK})?
          | (?P<sep>[-./－．／]){_SPACE}(?P<m2>[{_DIGIT}]{{1,2}}){_SPACE}(?P=sep){_SPACE}
            (?P<d2>[{_DIGIT}]{{1,2}})(?![{_DIGIT}])
        )
      | (?P<cy>{_CN_YEAR}{{4}}){_SPACE}年{_SPACE}(?P<cm>{_CN_NUM}{{1,3}}){_SPACE}月{_SPACE}
        (?P<cd>{_CN_NUM}{{1,3}}){_SPACE}{_DAY_MARK}
    )
    """,
    re.VERBOSE,
)


def _cn_number(text: str) -> int | None:
    """一 … 九, 十, 十一 … 十九, 二十 … 三十一 (the numbers of months and days), or None."""
    digits = "一二三四五六七八九"
    if "十" not in text:
        return digits.index(text) + 1 if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)


def _to_date(match: re.Match[str]) -> dt.date | None:
    if match["cy"] is not None:
        year = int("".join(str(_YEAR_DIGITS[ch]) for ch in match["cy"]))
        month, day = _cn_number(match["cm"]), _cn_number(match["cd"])
    else:
        year = int(match["y"])
        month = int(match["m"] if match["m"] is not None else match["m2"])
        day = int(match["d"] if match["d"] is not None else match["d2"])
    if month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """The date ``text`` names (the whole string, surrounding white space allowed), or None."""
    match = _DATE.fullmatch(text.strip())
    return None if match is None else _to_date(match)


def find_date(text: str) -> tuple[dt.date | None, re.Match[str]] | None:
    """The first thing in ``text`` written like a date, with its match; the date is None when it is
    written like one but is not a real date (2004年2月30日)."""
    match = _DATE.search(text)
    return None if match is None else (_to_date(match), match)
