"""Tests for counting 字 in word and chars mode."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.counting import CountMode, count_zi

WORD, CHARS = CountMode.WORD, CountMode.CHARS


@pytest.mark.parametrize(
    ("text", "word", "chars"),
    [
        ("", 0, 0),
        ("天河区", 3, 3),
        ("2004", 1, 4),
        ("GDP", 1, 3),
        ("3.5%", 1, 4),
        ("GDP增长3.5%", 4, 9),  # GDP + 增 + 长 + 3.5%
        ("GDP增长3.5%。", 5, 10),
        ("2004年1月8日", 6, 9),  # 2004 年 1 月 8 日
        ("同比增长 12.3 %", 6, 9),  # 同 比 增 长, 12.3, %
        ("今年以来，我区“十五”计划……", 15, 15),
        ("【越秀区】《穗府信息》", 11, 11),
        ("ＧＤＰ增长", 5, 5),  # full-width letters count one each, as Word does
        ("１２３", 3, 3),
        ("inf@gzy.gov.cn", 1, 14),
        ("Hello world", 2, 10),
        ("a,b c", 2, 4),
        ("你好,世界", 5, 5),  # a half-width comma between ideographs is a run of its own
        ("1―2名", 4, 4),  # 1 + ― + 2 + 名
        ("阿沛·阿旺晋美", 7, 7),
        ("①②③", 3, 3),
        ("面积100㎡", 4, 6),
        ("\U00020000\U0002a700\u3400", 3, 3),  # Ext B, Ext C, Ext A
        ("\uf900\uf901", 2, 2),  # compatibility ideographs
        ("かな カナ", 4, 4),
        ("한국어 단어", 2, 5),  # Hangul words are runs, as Word counts Korean words
    ],
)
def test_counts(text: str, word: int, chars: int) -> None:
    assert count_zi(text, WORD) == word
    assert count_zi(text, CHARS) == chars


@pytest.mark.parametrize(
    "space", [" ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
)
def test_white_space_is_not_counted(space: str) -> None:
    assert count_zi(f"天河{space}区", WORD) == 3
    assert count_zi(f"天河{space}区", CHARS) == 3
    assert count_zi(f"ab{space}cd", WORD) == 2
    assert count_zi(f"ab{space}cd", CHARS) == 4
    assert count_zi(space * 5, WORD) == count_zi(space * 5, CHARS) == 0


def test_default_mode_is_word() -> None:
    assert count_zi("GDP增长") == 3


def test_mode_may_be_given_as_its_config_string() -> None:
    assert count_zi("GDP增长", CountMode("chars")) == 5
    assert count_zi("GDP增长", "chars") == 5  # type: ignore[arg-type]


cjk = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=50)
spaces = st.text(st.sampled_from(" \t\n\u3000\u00a0\u200b\ufeff"), max_size=20)
mixed = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("，。、“”…—０１ＡＢ"),
        st.sampled_from("abcXYZ0123.%-,"),
        st.sampled_from(" \t\n\u3000\u200b"),
    ),
    max_size=80,
)


@given(st.text(max_size=100))
def test_chars_at_least_word(text: str) -> None:
    assert count_zi(text, CHARS) >= count_zi(text, WORD) >= 0


@given(st.text(max_size=60), st.text(max_size=60))
def test_word_mode_additive_across_a_space(left: str, right: str) -> None:
    assert count_zi(left + " " + right, WORD) == count_zi(left, WORD) + count_zi(right, WORD)


@given(st.text(max_size=60), st.text(max_size=60))
def test_chars_mode_additive(left: str, right: str) -> None:
    assert count_zi(left + right, CHARS) == count_zi(left, CHARS) + count_zi(right, CHARS)


@given(mixed, mixed)
def test_word_mode_additive_across_a_wide_character(left: str, right: str) -> None:
    assert count_zi(left + "。" + right) == count_zi(left) + 1 + count_zi(right)


@given(cjk)
def test_cjk_only_counts_its_length(text: str) -> None:
    assert count_zi(text, WORD) == count_zi(text, CHARS) == len(text)


@given(spaces)
def test_white_space_only_counts_zero(text: str) -> None:
    assert count_zi(text, WORD) == count_zi(text, CHARS) == 0


@given(mixed)
def test_counts_ignore_white_space_between_wide_characters(text: str) -> None:
    spaced = " ".join(text)
    assert count_zi(spaced, CHARS) == count_zi(text, CHARS)
    assert count_zi(spaced, WORD) == count_zi(spaced, CHARS)


def test_4000_zi_counted_fast() -> None:
    text = ("今年以来，我区GDP增长12.3%，“十五”计划稳步推进。" * 150)[:4000]
    start = time.perf_counter()
    for _ in range(20):
        count_zi(text, WORD)
        count_zi(text, CHARS)
    per_call = (time.perf_counter() - start) / 40
    assert per_call < 0.005  # measured about 0.1 ms; generous for slow CI machines
