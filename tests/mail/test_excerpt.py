"""excerpt: what a reply quotes of a sender is short and holds no link."""

from __future__ import annotations

import pytest

from mailgate.mail.excerpt import EXCERPT_CHARS, excerpt, strip_links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请访问http://evil.cn/x?y=1查看", "请访问（链接已略去）查看"),
        ("HTTPS://A.CN/登录", "（链接已略去）登录"),
        ("www.evil-prize.cn 领奖", "（链接已略去） 领奖"),
        ("见 evil.com/claim 领奖", "见 （链接已略去） 领奖"),
        ("天河区evil.top", "天河区（链接已略去）"),
        ("javascript:alert(1)", "（链接已略去）"),
        ("mailto:a@b.cn", "（链接已略去）"),
    ],
)
def test_links_are_left_out(text: str, expected: str) -> None:
    assert strip_links(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "xxy@th.gz.gov.cn",  # an address is not a link to a page
        "GDP 增长 3.5%",
        "报告.docx",
        "report.docx",
        "v1.2.3 版本",
        "【天河区】天河区推进政务信息化建设",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert excerpt(text) == text


def test_traditional_note() -> None:
    assert strip_links("見 http://a.cn", traditional=True) == "見 （鏈接已略去）"


def test_long_text_is_cut_with_an_ellipsis() -> None:
    text = "天" * 200
    cut = excerpt(text)
    assert len(cut) == EXCERPT_CHARS
    assert cut == "天" * (EXCERPT_CHARS - 1) + "…"
    assert excerpt("天" * EXCERPT_CHARS) == "天" * EXCERPT_CHARS
    assert excerpt("a" * 10, 5) == "aaaa…"
