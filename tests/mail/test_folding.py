"""Tests for comparison folding and script conversion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.folding import fold, to_simplified, to_traditional


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("【越秀區】 Ｇ Ｄ Ｐ。", "越秀区gdp"),
        ("越秀區", "越秀区"),
        ("天河區政府辦", "天河区政府办"),
        ("聯繫電話", "联系电话"),
        ("ＧＤＰ增長３．５％", "gdp增长35"),
        ("我市“十五”期间", "我市十五期间"),
        ("〔2004〕1号", "20041号"),
        ("《穗府信息》", "穗府信息"),
        ("关于、做好。工作，的：通知", "关于做好工作的通知"),
        ("标\u3000题", "标题"),
        ("标\u200b题\u200c\u200d\ufeff", "标题"),
        ("标\t题\r\n", "标题"),
        ("ＡＢＣ abc", "abcabc"),
        ("Straße", "strasse"),
        ("［緊急］", "紧急"),
    ],
)
def test_fold_equal(left: str, right: str) -> None:
    assert fold(left) == fold(right)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("【越秀區】 Ｇ Ｄ Ｐ。", "越秀区gdp"),
        ("  ", ""),
        ("", ""),
        ("【】〔〕［］《》“”、。，：", ""),
        ("+-=<>$%^~", ""),
        ("①", "1"),
    ],
)
def test_fold_value(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("left", "right"),
    [("越秀区", "海珠区"), ("天河区", "天河"), ("2004", "2005"), ("增长", "下降")],
)
def test_fold_keeps_differences(left: str, right: str) -> None:
    assert fold(left) != fold(right)


def test_fold_long_text_same_as_short_path() -> None:
    text = "越秀區推進政務公開，" * 50
    assert len(text) > 200
    assert fold(text) == "越秀区推进政务公开" * 50


@given(st.text(max_size=60))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(max_size=40), st.sampled_from([" ", "\u3000", "，", "。", "【", "】", "\u200b"]))
def test_fold_ignores_inserted_space_and_punctuation(text: str, extra: str) -> None:
    middle = len(text) // 2
    assert fold(text[:middle] + extra + text[middle:]) == fold(text)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("越秀區人民政府辦公室", "越秀区人民政府办公室"),
        ("聯繫電話：020-38622000", "联系电话：020-38622000"),
        ("【修改稿】緊急", "【修改稿】紧急"),
    ],
)
def test_script_conversion(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified
    assert to_traditional(simplified) == traditional


def test_conversion_leaves_punctuation_width_and_latin() -> None:
    text = "ＧＤＰ　「你好」 abc 123，。"
    assert to_simplified(text) == text
    assert to_traditional(text) == text


def test_conversion_of_long_text() -> None:
    text = "越秀區" * 100
    assert to_simplified(text) == "越秀区" * 100
    assert to_simplified("") == ""
