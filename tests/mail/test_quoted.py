"""Tests for cutting quoted history off an item's text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.quoted import strip_quoted

ITEM = "【天河区】标题\n\n正文第一段。\n\n单位：天河区政府办\n姓名：张三\n电话：38622000\n日期：2004年1月8日"

#: Quoted history as each mail client writes it, line by line.
HISTORY_LINES: dict[str, tuple[str, ...]] = {
    "outlook-cn": (
        "-----原始邮件-----",
        "发件人: 穗府信息 [mailto:inf@gzy.gov.cn]",
        "发送时间: 2004年1月8日 10:00",
        "收件人: xxy@th.gz.gov.cn",
        "主题: 回执",
        "",
        "已收到。",
    ),
    "outlook-tw": (
        "-----原始郵件-----",
        "寄件者: 穗府信息",
        "發件人: 穗府信息",
        "發送時間: 2004年1月8日",
        "",
        "已收到。",
    ),
    "outlook-en": (
        "-----Original Message-----",
        "From: inf@gzy.gov.cn",
        "Sent: Thursday, January 08, 2004 10:00 AM",
        "To: xxy@th.gz.gov.cn",
        "Subject: receipt",
        "",
        "received",
    ),
    "outlook-en-spaced": (
        "- - - - - Original Message - - - - -",
        "From: a",
        "Sent: b",
    ),
    "outlook-em-dash": (
        "————原始邮件————",
        "发件人：a",
    ),
    "foxmail": (
        "------------------ 原始邮件 ------------------",
        '发件人: "穗府信息"<inf@gzy.gov.cn>;',
        "发送时间: 2004年1月8日(星期四) 上午10:00",
        '收件人: "张三"<xxy@th.gz.gov.cn>;',
        "主题: 回执",
    ),
    "foxmail-nbsp": (
        "------------------\xa0原始邮件\xa0------------------",
        "发件人:\xa0a",
    ),
    "outlook-header": (
        "发件人: 穗府信息 <inf@gzy.gov.cn>",
        "发送时间: 2004年1月8日 10:00",
        "收件人: 张三",
        "主题: 回执",
        "",
        "已收到",
    ),
    "outlook-header-tw": (
        "發件人：穗府信息",
        "收件人：張三",
        "發送時間：2004年1月8日",
    ),
    "outlook-header-en": (
        "From: inf@gzy.gov.cn",
        "To: xxy@th.gz.gov.cn",
        "Cc: a@b.c",
        "Date: Thu, 8 Jan 2004 10:00",
    ),
    "outlook-header-date": (
        "发件人：穗府信息",
        "日期：2004年1月8日",
        "已收到",
    ),
    "outlook-web-rule": (
        "________________________________",
        "发件人: 穗府信息",
        "发送时间: 2004年1月8日",
    ),
    "gmail-cn": (
        "在 2004年1月8日 上午10:00，穗府信息 <inf@gzy.gov.cn> 写道：",
        "> 已收到。",
        "> 谢谢",
    ),
    "gmail-cn-new": (
        "穗府信息 <inf@gzy.gov.cn> 于2004年1月8日周四 10:00写道：",
        "",
        "> 已收到。",
    ),
    "gmail-tw": (
        "在 2004年1月8日 上午10:00，穗府信息 <inf@gzy.gov.cn> 寫道：",
        "> 已收到。",
    ),
    "gmail-en": (
        "On Thu, Jan 8, 2004 at 10:00 AM 穗府信息 <inf@gzy.gov.cn> wrote:",
        "> received",
    ),
    "gmail-en-wrapped": (
        "On Thu, Jan 8, 2004 at 10:00 AM Sui Fu Xin Xi <",
        "inf@gzy.gov.cn> wrote:",
        "",
        "> received",
    ),
    "quote-only": (
        "> 已收到。",
        "> 谢谢",
        ">",
        "> 穗府信息",
    ),
    "quote-fullwidth": ("＞ 已收到。",),
    "signature-separator": (
        "-- ",
        "张三",
        "天河区人民政府办公室  电话 020-38622000",
    ),
}
HISTORIES = {style: "\n".join(lines) for style, lines in HISTORY_LINES.items()}


@pytest.mark.parametrize("style", sorted(HISTORIES))
def test_history_is_cut(style: str) -> None:
    assert strip_quoted(f"{ITEM}\n\n{HISTORIES[style]}\n") == ITEM


@pytest.mark.parametrize("style", sorted(HISTORIES))
def test_crlf_line_endings(style: str) -> None:
    text = f"{ITEM}\n\n{HISTORIES[style]}".replace("\n", "\r\n")
    assert strip_quoted(text) == ITEM.replace("\n", "\r\n")


def test_earliest_marker_wins() -> None:
    text = f"{ITEM}\n{HISTORIES['gmail-cn']}\n{HISTORIES['outlook-cn']}\n> old"
    assert strip_quoted(text) == ITEM


def test_quote_block_followed_by_blank_lines() -> None:
    assert strip_quoted(f"{ITEM}\n> a\n\n> b\n\n\n") == ITEM


@pytest.mark.parametrize(
    "text",
    [
        ITEM,
        "",
        "标题\n正文中说：“他在信中写道：”\n落款",
        "标题\n在会上，市长写道：\n“要加快发展。”",  # no address, no time: a quotation, not history
        "标题\n发件人：张三\n正文继续\n更多正文\n再多正文\n日期：2004年1月8日",  # sent time too far below
        "标题\n> 不在末尾的引用\n正文继续",
        "标题\n-----\n分隔线不是原始邮件\n正文",
        "On the whole the plan worked.\nSo he wrote:\n正文",
    ],
)
def test_no_history_unchanged(text: str) -> None:
    assert strip_quoted(text) == text


@pytest.mark.parametrize(
    "header",
    [
        "-----原始邮件-----\n发件人: 张三 <xxy@th.gz.gov.cn>\n发送时间: 2026年11月26日 9:58\n"
        "收件人: inf@gzy.gov.cn\n主题: 【天河区】标题\n",
        '------------------ 原始邮件 ------------------\n发件人: "张三"<xxy@th.gz.gov.cn>;\n'
        '发送时间: 2026年11月26日(星期四) 上午9:58\n收件人: "inf"<inf@gzy.gov.cn>;\n主题: 【天河区】标题\n',
        "________________________________\nFrom: 张三 <xxy@th.gz.gov.cn>\nSent: Thursday, November 26, 2026\n"
        "To: inf@gzy.gov.cn\nSubject: 【天河区】标题\n",
    ],
)
def test_a_bare_forward_keeps_the_forwarded_item(header: str) -> None:
    assert strip_quoted(f"\n{header}\n{ITEM}\n") == ITEM


def test_a_bare_reply_is_still_empty() -> None:
    assert strip_quoted("\n在 2026年11月26日，张三 <xxy@th.gz.gov.cn> 写道：\n> 旧内容\n") == ""


def test_a_forward_with_nothing_above_is_the_forwarded_text() -> None:
    assert strip_quoted("-----原始邮件-----\n发件人: a\n发送时间: b\n正文") == "正文"


@given(st.text(st.characters(exclude_characters=">＞"), max_size=200))
def test_never_less_than_text_above_marker(above: str) -> None:
    text = f"{above}\n-----原始邮件-----\n发件人: a\n发送时间: b\n\n旧内容"
    result = strip_quoted(text)
    if not above.rstrip():  # nothing written above: a forward, whose text is kept
        assert result == "旧内容"
    else:
        assert above.rstrip().startswith(result)
        assert "旧内容" not in result


@given(st.text(max_size=200))
def test_never_raises_and_only_shortens(text: str) -> None:
    result = strip_quoted(text)
    assert result in text
