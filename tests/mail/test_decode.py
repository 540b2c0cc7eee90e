"""Charset aliases, body and header decoding, and mojibake detection without false positives."""

from __future__ import annotations

import base64

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgate.mail.decode import codec_for, decode_bytes, decode_header, find_mojibake
from mailgate.mail.model import EncodingProblem

SIMPLIFIED = [
    "天河区推进政务信息化建设",
    "近日，天河区召开政务信息化工作会议，部署2004年重点任务。会议要求各部门加强信息报送，提高信息质量和时效。",
    "作者单位：天河区政府办\n姓名：张三\n联系电话：020-38622000\n日期：2004年1月8日",
    "（越秀区政府办 李四 电话：83108888 2004年1月8日）",
    "广州市2004年GDP增长3.5%，“十五”计划各项指标全面完成。",
    "我们",
    "张三",
    "阿卜杜·热合曼同志说：“这很重要！”",
    "真的吗??",
]
TO_TRADITIONAL = opencc.OpenCC("s2t").convert
TRADITIONAL = [TO_TRADITIONAL(s) for s in SIMPLIFIED]
ENGLISH = [
    "Guangzhou information work plan for 2004.",
    "What??? Really?? ok",
    "Grüße aus München, informação e comunicação, café crème",
    "© 2004 Café — “quoted” naïve façade",
]


def _encodings(text: str) -> list[tuple[str, bytes]]:
    found = []
    for codec in ("gb18030", "big5hkscs", "utf-8"):
        try:
            found.append((codec, text.encode(codec)))
        except UnicodeEncodeError:
            continue
    return found


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("CP936", "gb18030"),
        ("euc-cn", "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ('"gb2312"', "gb18030"),
        ("Big5", "big5hkscs"),
        ("cn-big5", "big5hkscs"),
        ("x-x-big5", "big5hkscs"),
        ("UTF8", "utf-8"),
        ("utf-8*zh-cn", "utf-8"),
        ("iso-8859-1", "iso8859-1"),
        ("x-unknown-charset", None),
        ("base64", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_aliases(name: str | None, codec: str | None) -> None:
    assert codec_for(name) == codec


def test_gbk_only_characters_decode_under_gb2312_label() -> None:
    text = "镕基同志在喆园考察"  # 镕 and 喆 are not in GB2312, only in GBK/GB18030
    decoded = decode_bytes(text.encode("gb18030"), "gb2312")
    assert decoded == decode_bytes(text.encode("gb18030"), "gb18030")
    assert decoded.text == text
    assert decoded.issues == ()


def test_hkscs_characters_decode_under_big5_label() -> None:
    text = "香港特區政府"
    assert decode_bytes(text.encode("big5hkscs"), "big5").text == text


@pytest.mark.parametrize("text", SIMPLIFIED + TRADITIONAL + ENGLISH)
def test_correct_text_has_no_issues_in_any_encoding(text: str) -> None:
    assert find_mojibake(text) is None
    for codec, data in _encodings(text):
        decoded = decode_bytes(data, codec)
        assert decoded.text == text
        assert decoded.issues == ()


@pytest.mark.parametrize("text", SIMPLIFIED[:5])
@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252"])
def test_gbk_declared_as_latin_is_mojibake_and_repaired(text: str, declared: str) -> None:
    decoded = decode_bytes(text.encode("gbk"), declared)
    found = find_mojibake(decoded.text)
    assert (decoded.issues and decoded.issues[0][0] is EncodingProblem.MOJIBAKE) or found is not None
    if found is not None:
        assert found.repaired == text


def test_gbk_as_latin1_looks_like_latin_letters() -> None:
    shown = "天河区".encode("gbk").decode("latin-1")
    assert shown == "ÌìºÓÇø"
    found = find_mojibake(shown + "ÈËÃñÕþ¸®")
    assert found is not None
    assert found.repaired == "天河区人民政府"
    assert "gb18030" in found.detail


@pytest.mark.parametrize("text", SIMPLIFIED[:7] + TRADITIONAL[:5])
def test_utf8_declared_as_latin1_is_mojibake(text: str) -> None:
    shown = decode_bytes(text.encode("utf-8"), "iso-8859-1").text
    found = find_mojibake(shown)
    assert found is not None
    assert found.repaired == text


@pytest.mark.parametrize("text", ["我们", "张三", "天河区推进政务信息化建设"])
def test_utf8_read_as_gbk_is_mojibake(text: str) -> None:
    shown = text.encode("utf-8").decode("gb18030", "replace")
    found = find_mojibake(shown)
    assert found is not None
    assert "utf-8" in found.detail


def test_classic_utf8_as_gbk_sample() -> None:
    found = find_mojibake("鎴戜滑")
    assert found is not None
    assert found.repaired == "我们"


def test_lost_replacement_characters_are_mojibake() -> None:
    found = find_mojibake("标题锟斤拷锟斤拷正文")
    assert found is not None
    assert found.repaired is None


@pytest.mark.parametrize(
    "text", ["????????", "【??】????????", "???: ????\n????: 020-38622000\n???2004?1?8?"]
)
def test_question_marks_instead_of_chinese(text: str) -> None:
    found = find_mojibake(text)
    assert found is not None
    assert found.repaired is None


@pytest.mark.parametrize("text", ["What???", "Is this right?? Yes.", "网址 http://x.cn/?a=1&b=2"])
def test_a_few_question_marks_are_fine(text: str) -> None:
    assert find_mojibake(text) is None


def test_big5_read_as_gbk_is_mojibake() -> None:
    text = TRADITIONAL[1]
    shown = text.encode("big5hkscs").decode("gb18030", "replace")
    found = find_mojibake(shown)
    assert found is not None
    assert found.repaired == text


def test_declared_charset_that_fails_but_other_fits_is_mojibake() -> None:
    decoded = decode_bytes(SIMPLIFIED[1].encode("gb18030"), "us-ascii")
    assert decoded.text == SIMPLIFIED[1]
    assert decoded.issues == ((EncodingProblem.MOJIBAKE, "declared us-ascii, content is gb18030"),)


def test_undeclared_8bit_reports_the_guess() -> None:
    decoded = decode_bytes("\n".join(SIMPLIFIED[:4]).encode("gb18030"), None)
    assert decoded.text == "\n".join(SIMPLIFIED[:4])
    assert decoded.issues == ((EncodingProblem.UNDECLARED_8BIT, "gb18030"),)


def test_undeclared_ascii_is_fine() -> None:
    assert decode_bytes(b"plain ascii", None).issues == ()


def test_unknown_charset_falls_back_and_is_reported() -> None:
    decoded = decode_bytes(SIMPLIFIED[0].encode("gb18030"), "x-chinese-weird")
    assert decoded.text == SIMPLIFIED[0]
    assert decoded.issues == ((EncodingProblem.UNKNOWN_CHARSET, "x-chinese-weird"),)


def test_a_trivial_number_of_bad_bytes_is_tolerated() -> None:
    data = ("正文" * 200).encode("utf-8") + b"\xff"
    decoded = decode_bytes(data, "utf-8")
    assert decoded.text.endswith("\ufffd")
    assert decoded.issues == ()


def test_many_bad_bytes_are_undecodable() -> None:
    decoded = decode_bytes(b"ab\xff\xfe\xfd\x80\x81cd" * 3, "utf-8")
    assert decoded.issues == ((EncodingProblem.UNDECODABLE, "utf-8"),)


def _b(text: bytes, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text).decode()}?="


def test_header_split_inside_a_multibyte_character() -> None:
    data = "【天河区】标题".encode()
    value = _b(data[:4], "utf-8") + "\r\n " + _b(data[4:11], "UTF-8") + " " + _b(data[11:], "utf-8")
    assert decode_header(value).text == "【天河区】标题"


def test_header_q_and_b_words_mixed_with_plain_text() -> None:
    q = "=?gb2312?Q?=A1=BE=CC=EC=BA=D3=C7=F8=A1=BF?="
    value = f"Re: {q} {_b('标题'.encode('gb2312'), 'gb2312')} (2004)"
    assert decode_header(value).text == "Re: 【天河区】标题 (2004)"


def test_header_q_underscore_is_space() -> None:
    assert decode_header("=?utf-8?Q?a_b?=").text == "a b"


def test_header_words_of_different_charsets() -> None:
    value = _b("天河".encode("gb2312"), "gb2312") + " " + _b("區".encode("big5"), "big5")
    assert decode_header(value).text == "天河區"


def test_header_raw_utf8_is_accepted_silently() -> None:
    raw = "【天河区】标题".encode().decode("ascii", "surrogateescape")
    assert decode_header(raw).text == "【天河区】标题"
    assert decode_header(raw).issues == ()


def test_header_raw_gbk_is_undeclared_8bit_but_readable() -> None:
    raw = "【天河区】标题".encode("gbk").decode("ascii", "surrogateescape")
    decoded = decode_header(raw)
    assert decoded.text == "【天河区】标题"
    assert decoded.issues == ((EncodingProblem.UNDECLARED_8BIT, "gb18030"),)


def test_header_latin1_word_holding_gbk_is_mojibake() -> None:
    decoded = decode_header(_b("【天河区】政务信息".encode("gbk"), "iso-8859-1"))
    assert decoded.text == "【天河区】政务信息"
    assert decoded.issues[0][0] is EncodingProblem.MOJIBAKE


def test_header_unknown_charset_word() -> None:
    decoded = decode_header(_b("标题".encode("gb18030"), "x-foo"))
    assert decoded.text == "标题"
    assert decoded.issues == ((EncodingProblem.UNKNOWN_CHARSET, "x-foo"),)


def test_header_broken_base64_word_does_not_raise() -> None:
    assert isinstance(decode_header("=?utf-8?B?5aSp5!!?= x").text, str)


def test_header_unfolding() -> None:
    assert decode_header("a\r\n b\n\tc").text == "a b c"


COMMON_CHINESE = st.text(
    alphabet=st.sampled_from(
        list(
            "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
        )
        + list("，。：；“”（）《》、！")
        + list("0123456789 abcXYZ-")
    ),
    min_size=1,
    max_size=200,
)


@settings(deadline=None)  # the first call builds the table of everyday characters
@given(COMMON_CHINESE)
def test_property_chinese_text_is_never_mojibake(text: str) -> None:
    assert find_mojibake(text) is None
    traditional = TO_TRADITIONAL(text)
    assert find_mojibake(traditional) is None


@settings(deadline=None)
@given(COMMON_CHINESE, st.sampled_from(["gb18030", "utf-8", "big5hkscs"]))
def test_property_declared_encodings_round_trip(text: str, codec: str) -> None:
    traditional = TO_TRADITIONAL(text)
    for candidate in (text, traditional):
        try:
            data = candidate.encode(codec)
        except UnicodeEncodeError:
            continue
        assert decode_bytes(data, codec).text == candidate


@given(
    st.binary(max_size=300),
    st.sampled_from([None, "utf-8", "gb2312", "big5", "us-ascii", "x-nope", "latin1"]),
)
def test_property_decode_bytes_never_raises(data: bytes, charset: str | None) -> None:
    assert isinstance(decode_bytes(data, charset).text, str)


@given(st.text(max_size=200))
def test_property_decode_header_never_raises(value: str) -> None:
    assert isinstance(decode_header(value).text, str)
    assert isinstance(decode_header("=?gb2312?B?" + value + "?=").text, str)
