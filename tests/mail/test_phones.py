"""Tests for recognising 落款 telephone numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.phones import find_phone, is_valid_phone, iter_phones


@pytest.mark.parametrize(
    "text",
    [
        "38622000",
        "3862200",
        "3862-2000",
        "3862 2000",
        "020-38622000",
        "020 38622000",
        "02038622000",
        "020－38622000",
        "020—38622000",
        "(020)38622000",
        "（020）38622000",
        "（020）3862 2000",
        "( 020 ) 38622000",
        "0755-23456789",
        "0755-2345678",
        "020-3862-2000",
        "020-38622000转123",
        "020-38622000轉123",
        "38622000转 8001",
        "020-38622000-123",
        "38622000 分机 123",
        "38622000分機123",
        "38622000 ext.123",
        "38622000 EXT 123",
        "38622000x12",
        "13800138000",
        "138-0013-8000",
        "138 0013 8000",
        "139 8888 6666",
        "19912345678",
        "+86 138 0013 8000",
        "+86-13800138000",
        "008613800138000",
        "+86-20-38622000",
        "+86 (20) 38622000",
        "３８６２２０００",
        "０２０－３８６２２０００",
        "１３８００１３８０００",
        "（０２０）３８６２２０００转１２３",
        "  38622000  ",
    ],
)
def test_valid(text: str) -> None:
    assert is_valid_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "电话",
        "123456",  # too short
        "386220",
        "12345678",  # local numbers do not start with 1
        "08622000",  # nor with 0
        "386220001",  # 9 digits, no area code
        "3862200012",
        "12800138000",  # no 12x mobiles
        "1380013800",  # 10-digit "mobile"
        "138001380001",
        "02-38622000",  # area code too short
        "0-38622000",
        "020--",
        "38622000转",
        "38622000、13800138000",  # two numbers
        "38622000 2004年",
        "电话：38622000",
        "2004-01-08",
        "abcdefgh",
    ],
)
def test_invalid(text: str) -> None:
    assert not is_valid_phone(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("电话：38622000", "38622000"),
        ("電話：020-38622000 2004年1月8日", "020-38622000"),
        ("电话：38622000 2004-01-08", "38622000"),
        ("（天河区政府办 张三 电话：（020）3862 2000转123 2004年1月8日）", "（020）3862 2000转123"),
        ("手机13800138000，办公38622000", "13800138000"),
        ("联系电话:１３８－００１３－８０００。", "１３８－００１３－８０００"),
        ("电话：123456789", "123456789"),  # phone-like although invalid
        ("请拨打 12345 2004 咨询", "12345 2004"),
        ("号码 02-38622000", "02-38622000"),
    ],
)
def test_find_phone(text: str, found: str) -> None:
    match = find_phone(text)
    assert match is not None
    assert match.group() == found
    assert match.string is text


@pytest.mark.parametrize("text", ["", "没有号码", "共123456人", "2004年1月8日", "12345"])
def test_find_phone_none(text: str) -> None:
    assert find_phone(text) is None


def test_iter_phones_finds_each_number() -> None:
    text = "电话：38622000、13800138000 / (020)83333333"
    assert [m.group() for m in iter_phones(text)] == ["38622000", "13800138000", "(020)83333333"]


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", " ", "-"]))
def test_mobiles_with_separators(digits: str, sep: str) -> None:
    written = sep.join((digits[:3], digits[3:7], digits[7:]))
    assert is_valid_phone(written)
    match = find_phone(f"手机：{written}。")
    assert match is not None
    assert match.group() == written


@given(st.from_regex(r"0[1-9][0-9]{1,2}", fullmatch=True), st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True))
def test_landlines_with_area_code(area: str, local: str) -> None:
    assert is_valid_phone(f"{area}-{local}")
    assert is_valid_phone(f"（{area}）{local}")
    assert is_valid_phone(f"{area}-{local}转12")


@given(st.text(max_size=60))
def test_never_raises(text: str) -> None:
    is_valid_phone(text)
    find_phone(text)
