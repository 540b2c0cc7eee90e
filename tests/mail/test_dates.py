"""Tests for reading 落款 dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.dates import find_date, parse_date

JAN8 = dt.date(2004, 1, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2004年1月8日", JAN8),
        ("2004年01月08日", JAN8),
        ("2004-01-08", JAN8),
        ("2004-1-8", JAN8),
        ("2004.1.8", JAN8),
        ("2004.01.08", JAN8),
        ("2004/1/8", JAN8),
        ("２００４年１月８日", JAN8),
        ("２００４－０１－０８", JAN8),
        ("２００４．１．８", JAN8),
        ("２００４／１／８", JAN8),
        ("2004 年 1 月 8 日", JAN8),
        ("  2004年1月8日\u3000", JAN8),
        ("2004年1月8号", JAN8),
        ("2004年1月8", JAN8),
        ("二〇〇四年一月八日", JAN8),
        ("二○○四年一月八日", JAN8),
        ("二零零四年一月八日", JAN8),
        ("二OO四年一月六日", dt.date(2004, 1, 6)),
        ("二oo四年一月八日", JAN8),
        ("二ＯＯ四年一月八日", JAN8),
        ("二〇二六年十一月二十六日", dt.date(2026, 11, 26)),
        ("二〇〇四年十二月三十一日", dt.date(2004, 12, 31)),
        ("二〇〇四年十月十日", dt.date(2004, 10, 10)),
        ("二〇〇四年二月二十九日", dt.date(2004, 2, 29)),
        ("2004年2月29日", dt.date(2004, 2, 29)),
    ],
)
def test_parse_date(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "明天",
        "2004年2月30日",
        "2003年2月29日",
        "2004年13月1日",
        "2004-00-08",
        "二〇〇四年十三月一日",
        "二〇〇四年一月三十二日",
        "二〇〇四年十十月一日",
        "2004-1/8",  # separators must agree
        "12004-01-08",
        "2004-01-081",
        "04年1月8日",
        "2004年1月",
        "2004年1月8日上午",  # parse_date wants the whole string; find_date finds it
        "日期：2004年1月8日",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "written", "expected"),
    [
        ("日期：2004年1月8日", "2004年1月8日", JAN8),
        ("（天河区政府办 张三 电话：38622000 2004年1月8日）", "2004年1月8日", JAN8),
        ("2004年1月8日上午10时", "2004年1月8日", JAN8),
        ("于2004年1月8号召开", "2004年1月8号", JAN8),
        ("时间：二OO四年一月八日", "二OO四年一月八日", JAN8),
        ("先2004-01-08后2005-02-03", "2004-01-08", JAN8),
        ("日期:2004年2月30日", "2004年2月30日", None),
        ("日期：二〇〇四年二月三十日", "二〇〇四年二月三十日", None),
        ("2004年1月8 上午", "2004年1月8", JAN8),
    ],
)
def test_find_date(text: str, written: str, expected: dt.date | None) -> None:
    found = find_date(text)
    assert found is not None
    date, match = found
    assert match.group() == written
    assert date == expected
    assert match.string is text


@pytest.mark.parametrize(
    "text", ["", "电话：38622000", "020-3862-2000", "今年1月8日", "第2004号", "12004-01-08", "一月八日"]
)
def test_find_date_none(text: str) -> None:
    assert find_date(text) is None


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_written_form_round_trips(date: dt.date) -> None:
    forms = [
        f"{date.year}年{date.month}月{date.day}日",
        f"{date.year}-{date.month:02d}-{date.day:02d}",
        f"{date.year}.{date.month}.{date.day}",
        f"{date.year}/{date.month}/{date.day}",
    ]
    for form in forms:
        assert parse_date(form) == date
        found = find_date(f"日期：{form}。")
        assert found is not None
        assert found == (date, found[1])
        assert found[1].group() == form


def _chinese(n: int) -> str:
    digits = "〇一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_chinese_numerals_round_trip(date: dt.date) -> None:
    year = "".join("〇一二三四五六七八九"[int(d)] for d in str(date.year))
    assert parse_date(f"{year}年{_chinese(date.month)}月{_chinese(date.day)}日") == date


@given(st.text(max_size=50))
def test_never_raises(text: str) -> None:
    parse_date(text)
    find_date(text)
