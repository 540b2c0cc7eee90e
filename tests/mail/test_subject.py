"""Tests for the subject grammar."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.folding import fold
from mailgate.mail.subject import MAX_CODE_CHARS, parse_subject


@pytest.mark.parametrize(
    ("subject", "identifier", "title"),
    [
        ("【天河区】我区推进政务公开", "天河区", "我区推进政务公开"),
        ("【越秀區】越秀區推進政務公開", "越秀區", "越秀區推進政務公開"),
        ("[天河区]标题", "天河区", "标题"),
        ("〔天河区〕标题", "天河区", "标题"),
        ("［天河区］标题", "天河区", "标题"),
        ("【天河区]标题", "天河区", "标题"),  # mismatched brackets are a slip, not a different grammar
        ("  【 天河区 】  标题  ", "天河区", "标题"),
        ("【天河区】", "天河区", ""),
        ("标题", None, "标题"),
        ("标题【天河区】", None, "标题【天河区】"),  # brackets only count before the title
        ("", None, ""),
        ("   ", None, ""),
        ("【", None, "【"),
        ("【天河区", None, "【天河区"),
        ("回复：【天河区】标题", "天河区", "标题"),
        ("回复:【天河区】标题", "天河区", "标题"),
        ("答复：【天河区】标题", "天河区", "标题"),
        ("回覆：【天河區】標題", "天河區", "標題"),
        ("答覆：【天河區】標題", "天河區", "標題"),
        ("RE: 【天河区】标题", "天河区", "标题"),
        ("Re:【天河区】标题", "天河区", "标题"),
        ("re：【天河区】标题", "天河区", "标题"),
        ("FW: 【天河区】标题", "天河区", "标题"),
        ("Fw:【天河区】标题", "天河区", "标题"),
        ("Fwd: 【天河区】标题", "天河区", "标题"),
        ("转发：【天河区】标题", "天河区", "标题"),
        ("轉發：【天河區】標題", "天河區", "標題"),
        ("Re[2]: 【天河区】标题", "天河区", "标题"),
        ("回复：答复: RE: Fw: 转发：Re：【天河区】标题", "天河区", "标题"),
        ("回复 ： 【天河区】标题", "天河区", "标题"),
        ("回复市民关切", None, "回复市民关切"),  # no colon: part of the title
        ("Report: 【天河区】标题", None, "Report: 【天河区】标题"),
        ("【天河区】RE: 标题", "天河区", "RE: 标题"),
    ],
)
def test_identifier_and_title(subject: str, identifier: str | None, title: str) -> None:
    info = parse_subject(subject)
    assert info.raw == subject
    assert info.identifier == identifier
    assert info.title == title


@pytest.mark.parametrize(
    ("subject", "revision", "urgent", "commissioned", "code"),
    [
        ("【天河区】标题", False, False, False, None),
        ("【天河区】【修改稿】标题", True, False, False, None),
        ("【修改稿】【天河区】标题", True, False, False, None),
        ("[修改稿][天河区]标题", True, False, False, None),
        ("【天河区】【紧急】标题", False, True, False, None),
        ("【天河區】【緊急】標題", False, True, False, None),
        ("【天河区】〔重大〕标题", False, True, False, None),
        ("【天河区】【约稿】标题", False, False, True, None),
        ("【天河區】【約稿】標題", False, False, True, None),
        ("【天河区】【约稿:2004-03】标题", False, False, True, "2004-03"),
        ("【天河区】【约稿：2004-03】标题", False, False, True, "2004-03"),
        ("【天河區】【約稿： A12 】標題", False, False, True, "A12"),
        ("【天河区】【约稿：】标题", False, False, True, None),
        ("【約稿:X1】［緊急］〔修改稿〕[天河区]标题", True, True, True, "X1"),
        ("回复：【天河区】【 修改稿 】【重大】标题", True, True, False, None),
        ("【天河区】【修改】标题", False, False, False, None),
    ],
)
def test_markers(subject: str, revision: bool, urgent: bool, commissioned: bool, code: str | None) -> None:
    info = parse_subject(subject)
    assert (info.revision, info.urgent, info.commissioned, info.commission_code) == (
        revision,
        urgent,
        commissioned,
        code,
    )
    assert info.title == "标题" or info.title == "標題"


@pytest.mark.parametrize(
    ("subject", "identifier", "extra"),
    [
        ("【天河区】【修改稿】标题", "天河区", ()),
        ("【修改稿】【天河区】【越秀区】标题", "天河区", ("越秀区",)),
        ("【天河区】【其他】[第二]标题", "天河区", ("其他", "第二")),
        ("【】【天河区】标题", "天河区", ("",)),
        ("【】标题", None, ("",)),
        ("【修改稿】【紧急】标题", None, ()),
    ],
)
def test_extra_brackets(subject: str, identifier: str | None, extra: tuple[str, ...]) -> None:
    info = parse_subject(subject)
    assert info.identifier == identifier
    assert info.extra_brackets == extra


@given(st.text(max_size=80))
def test_never_raises_and_keeps_raw(subject: str) -> None:
    info = parse_subject(subject)
    assert info.raw == subject
    assert info.title == info.title.strip()


@given(st.text(st.characters(exclude_characters="【】[]〔〕［］"), max_size=30))
def test_title_is_what_follows_the_identifier(title: str) -> None:
    info = parse_subject(f"【天河区】{title}")
    assert info.identifier == "天河区"
    assert info.title == title.strip()


@pytest.mark.parametrize(
    "subject",
    [
        "回复：回执：【天河区】【修改稿】天河区推进智慧城市建设（编号 20261126-000042）",
        "Re: 回執：【天河區】【修改稿】天河区推进智慧城市建设（編號 20261126-000042）",
        "回复：退稿通知：【天河区】【修改稿】天河区推进智慧城市建设",
    ],
)
def test_replies_to_our_own_notices_keep_only_the_item_subject(subject: str) -> None:
    info = parse_subject(subject)
    assert fold(info.identifier or "") == fold("天河区")
    assert info.revision
    assert info.title == "天河区推进智慧城市建设"


def test_an_overlong_commission_code_is_cut_to_what_a_code_may_be() -> None:
    info = parse_subject("【天河区】【约稿:" + "A" * 5000 + "】标题")
    assert info.commissioned
    assert info.commission_code == "A" * MAX_CODE_CHARS
    assert info.title == "标题"
