"""Tests for splitting an item into title, 正文 and 落款, and reading the 落款."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.signature import parse_signature, split_item

JAN8 = dt.date(2004, 1, 8)
TITLE = "天河区推进政务公开"
MAIN = "\u3000\u3000今年以来，我区加强政务信息工作。\n\u3000\u3000全年报送信息120条，GDP增长12.3%。"


def body(*signature: str, main: str = MAIN, title: str = TITLE) -> str:
    return "\n".join((title, main, *signature)) + "\n"


# (signature lines, unit, name, phone, date_text, date)
SIGNATURES = [
    (
        ["作者单位：天河区政府办", "姓名：张三", "联系电话：020-38622000", "日期：2004年1月8日"],
        "天河区政府办", "张三", "020-38622000", "2004年1月8日", JAN8,
    ),
    (
        ["作者單位：越秀區政府辦", "姓名：李四", "聯繫電話：83333333", "日期：二〇〇四年一月八日"],
        "越秀區政府辦", "李四", "83333333", "二〇〇四年一月八日", JAN8,
    ),
    (
        ["单位:天河区政府办", "姓名:张三", "电话:38622000", "日期:2004-01-08"],
        "天河区政府办", "张三", "38622000", "2004-01-08", JAN8,
    ),
    (
        ["单\u3000\u3000位：天河区政府办", "姓\u3000\u3000名：张三",
         "电\u3000\u3000话：38622000", "日\u3000\u3000期：2004.1.8"],
        "天河区政府办", "张三", "38622000", "2004.1.8", JAN8,
    ),
    (
        ["报送单位：天河区政府办", "撰稿人：张三", "手机：13800138000", "时间：2004/1/8"],
        "天河区政府办", "张三", "13800138000", "2004/1/8", JAN8,
    ),
    (
        ["報送單位：天河區政府辦", "作者：張三", "手機：138-0013-8000", "時間：2004年01月08日"],
        "天河區政府辦", "張三", "138-0013-8000", "2004年01月08日", JAN8,
    ),
    (
        ["單位：天河區政府辦", "聯繫人：張三", "電話：（020）38622000", "日期：二OO四年一月八日"],
        "天河區政府辦", "張三", "（020）38622000", "二OO四年一月八日", JAN8,
    ),
    (
        ["  作者单位：天河区政府办  ", "\u3000联系人：张三",
         "联系电话：020-38622000转123", "日期：２００４年１月８日"],
        "天河区政府办", "张三", "020-38622000转123", "２００４年１月８日", JAN8,
    ),
    (
        ["单位：天河区政府办  姓名：张三", "电话：38622000  日期：2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["单位：天河区政府办 姓名：张三 电话：38622000 日期：2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["单位：天河区政府办，姓名：张三，电话：38622000，日期：2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["单位：天河区政府办 姓名：张三 电话：38622000 2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["（单位：天河区政府办 姓名：张三 电话：38622000 日期：2004年1月8日）"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["（单位：天河区政府办", "姓名：张三", "电话：38622000", "日期：2004年1月8日）"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["单位：天河区政府办", "", "姓名：张三", "", "电话：38622000", "", "日期：2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["作者单位：天河区政府办", "姓名：张三", "电话：38622000", "2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["（天河区政府办 张三 电话：38622000 2004年1月8日）"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["(天河区政府办 张三 电话:38622000 2004-01-08)"],
        "天河区政府办", "张三", "38622000", "2004-01-08", JAN8,
    ),
    (
        ["（越秀區政府辦 李四 電話：83333333 二〇〇四年一月八日）"],
        "越秀區政府辦", "李四", "83333333", "二〇〇四年一月八日", JAN8,
    ),
    (
        ["（天河区政府办 张三 38622000 2004年1月8日）"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["（天河区政府办 张三 手机：13800138000 2004.1.8）"],
        "天河区政府办", "张三", "13800138000", "2004.1.8", JAN8,
    ),
    (
        ["（天河区政府办\u3000张三\u3000电话：020-38622000\u30002004年1月8日）"],
        "天河区政府办", "张三", "020-38622000", "2004年1月8日", JAN8,
    ),
    (
        ["天河区政府办 张三 38622000 2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["天河区政府办 张三 电话：38622000 2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
    (
        ["（天河区政府办 张三 电话：38622000）", "2004年1月8日"],
        "天河区政府办", "张三", "38622000", "2004年1月8日", JAN8,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "unit", "name", "phone", "date_text", "date"), SIGNATURES)
def test_signature_variants(
    lines: list[str], unit: str, name: str, phone: str, date_text: str, date: dt.date
) -> None:
    parts = split_item(body(*lines))
    assert parts.title == TITLE
    assert parts.main == MAIN
    assert parts.signature_count == 1
    assert parts.trailing == ""
    signature = parts.signature
    assert signature is not None
    assert (signature.unit, signature.name, signature.phone) == (unit, name, phone)
    assert (signature.date_text, signature.date) == (date_text, date)
    assert signature.phone_valid
    assert signature.raw == "\n".join(line for line in lines if line.strip())


@pytest.mark.parametrize(("lines", "unit", "name", "phone", "date_text", "date"), SIGNATURES)
def test_parse_signature_reads_the_block_alone(
    lines: list[str], unit: str, name: str, phone: str, date_text: str, date: dt.date
) -> None:
    signature = parse_signature("\n".join(lines))
    assert signature is not None
    assert (signature.unit, signature.name, signature.phone, signature.date_text, signature.date) == (
        unit,
        name,
        phone,
        date_text,
        date,
    )


@pytest.mark.parametrize(
    ("lines", "missing"),
    [
        (["单位：天河区政府办", "姓名：张三"], {"phone", "date"}),
        (["姓名：张三", "电话：38622000", "日期：2004年1月8日"], {"unit"}),
        (["单位：天河区政府办", "电话：38622000", "日期：2004年1月8日"], {"name"}),
        (["单位：天河区政府办", "姓名：张三", "日期：2004年1月8日"], {"phone"}),
        (["单位：天河区政府办", "姓名：张三", "电话：38622000"], {"date"}),
        (["单位：天河区政府办", "姓名：", "电话：38622000", "日期：2004年1月8日"], {"name"}),
        (["（天河区政府办 电话：38622000 2004年1月8日）"], {"name"}),
        (["（天河区政府办 张三 2004年1月8日）"], {"phone"}),
        (["（天河区政府办 张三 38622000）"], {"date"}),
    ],
)
def test_missing_fields_are_none(lines: list[str], missing: set[str]) -> None:
    signature = split_item(body(*lines)).signature
    assert signature is not None
    values = {
        "unit": signature.unit,
        "name": signature.name,
        "phone": signature.phone,
        "date": signature.date,
    }
    assert {key for key, value in values.items() if value is None} == missing
    assert (signature.date_text is None) == ("date" in missing)


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("38622000", True),
        ("020-38622000", True),
        ("13800138000", True),
        ("38622000（办）", True),
        ("38622000、13800138000", True),
        ("1234", False),
        ("123456789", False),
        ("无", False),
    ],
)
def test_phone_validity(phone: str, valid: bool) -> None:
    signature = parse_signature(f"单位：天河区政府办\n姓名：张三\n电话：{phone}\n日期：2004年1月8日")
    assert signature is not None
    assert signature.phone == phone
    assert signature.phone_valid is valid


@pytest.mark.parametrize(
    ("written", "date"),
    [("2004年2月30日", None), ("2004年1月8日上午", JAN8), ("一月八日", None), ("2004年1月8日", JAN8)],
)
def test_date_text_kept_when_it_does_not_parse(written: str, date: dt.date | None) -> None:
    signature = parse_signature(f"单位：天河区政府办\n姓名：张三\n电话：38622000\n日期：{written}")
    assert signature is not None
    assert (signature.date_text, signature.date) == (written, date)


@pytest.mark.parametrize(
    "block",
    [
        "",
        "\n\n",
        "今年以来，我区加强政务信息工作。",
        "（据统计，2004年1月8日全市报送信息120条。）",
        "（完）",
        "来源：区统计局",
    ],
)
def test_parse_signature_none(block: str) -> None:
    assert parse_signature(block) is None


SIGNATURE = ("作者单位：天河区政府办", "姓名：张三", "联系电话：38622000", "日期：2004年1月8日")


@pytest.mark.parametrize(
    ("source_line", "source"),
    [
        ("来源：区统计局", "区统计局"),
        ("來源：區統計局", "區統計局"),
        ("来源:区统计局", "区统计局"),
        ("信息来源：市统计局2004年统计公报", "市统计局2004年统计公报"),
        ("數據來源：市統計局", "市統計局"),
        ("（来源：区统计局）", "区统计局"),
    ],
)
@pytest.mark.parametrize("where", ["before", "after", "inside"])
def test_source_is_not_main_or_trailing(source_line: str, source: str, where: str) -> None:
    if where == "before":
        text = body(source_line, *SIGNATURE)
    elif where == "after":
        text = body(*SIGNATURE, source_line)
    else:
        text = body(*SIGNATURE[:2], source_line, *SIGNATURE[2:])
    parts = split_item(text)
    assert parts.source == source
    assert parts.main == MAIN
    assert parts.trailing == ""
    assert parts.signature_count == 1
    assert parts.signature is not None
    assert parts.signature.date == JAN8


def test_source_without_signature() -> None:
    parts = split_item(body("来源：区统计局"))
    assert parts.source == "区统计局"
    assert parts.main == MAIN
    assert parts.signature is None


def test_no_signature_main_is_everything_after_title() -> None:
    parts = split_item(body())
    assert parts.title == TITLE
    assert parts.main == MAIN
    assert parts.signature is None
    assert parts.signature_count == 0
    assert parts.source is None
    assert parts.trailing == ""


@pytest.mark.parametrize(
    ("text", "title", "main"),
    [
        ("", None, ""),
        ("   \n\u3000\n", None, ""),
        ("只有标题", "只有标题", ""),
        ("\n\n  标题  \n\n\n正文\n\n", "标题", "正文"),
        ("标题\r\n正文一\r\n\r\n正文二\r\n", "标题", "正文一\n\n正文二"),
        ("\u3000标题\n\u3000\u3000正文", "标题", "\u3000\u3000正文"),
    ],
)
def test_title_and_main(text: str, title: str | None, main: str) -> None:
    parts = split_item(text)
    assert parts.title == title
    assert parts.main == main


@pytest.mark.parametrize(
    "main",
    [
        "市民可拨打电话：12345咨询。",
        "联系电话等信息已在网站公布。",
        "今年以来，单位：个人比例为3：1。",
        "（据统计，2004年1月8日全市报送信息120条，咨询电话38622000。）",
        "活动定于2004年1月8日举行，报名电话38622000，欢迎参加。",
        "时间：1月8日上午9时 地点：市府礼堂\n会议要求各单位参加。",
        "日期：本周三，地点待定。\n请各单位准时参加。",
        "会议由张三主持 电话会议 共有38622000人次参与。",
    ],
)
def test_main_lines_that_mention_labels_are_not_signatures(main: str) -> None:
    parts = split_item(body(*SIGNATURE, main=main))
    assert parts.main == main
    assert parts.signature_count == 1
    assert parts.signature is not None
    assert parts.signature.unit == "天河区政府办"


def test_two_items_count_two_signatures() -> None:
    text = body(
        *SIGNATURE,
        "",
        "海珠区推进政务公开",
        "正文二。",
        "（海珠区政府办 王五 电话：84444444 2004年1月9日）",
    )
    parts = split_item(text)
    assert parts.signature_count == 2
    assert parts.signature is not None
    assert parts.signature.unit == "天河区政府办"
    assert parts.main == MAIN
    assert parts.trailing == "海珠区推进政务公开\n正文二。\n（海珠区政府办 王五 电话：84444444 2004年1月9日）"


def test_repeated_field_starts_a_second_signature() -> None:
    parts = split_item(body(*SIGNATURE, *SIGNATURE))
    assert parts.signature_count == 2
    assert parts.trailing == "\n".join(SIGNATURE)


def test_text_after_signature_is_trailing() -> None:
    parts = split_item(body(*SIGNATURE, "", "另：附件为详细材料。", "（完）"))
    assert parts.signature_count == 1
    assert parts.trailing == "另：附件为详细材料。"


@pytest.mark.parametrize("end_mark", ["（完）", "(完)", "完"])
def test_end_mark_is_not_trailing(end_mark: str) -> None:
    assert split_item(body(*SIGNATURE, end_mark)).trailing == ""


def test_signature_right_after_title() -> None:
    parts = split_item("标题\n（天河区政府办 张三 电话：38622000 2004年1月8日）")
    assert parts.main == ""
    assert parts.signature is not None
    assert parts.signature.name == "张三"


def test_lone_label_line_at_the_end_is_a_partial_signature() -> None:
    parts = split_item(body("日期：2004年1月8日"))
    assert parts.main == MAIN
    assert parts.signature is not None
    assert parts.signature.date == JAN8
    assert parts.signature.unit is None


_LINE = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("，。、“”０１2004-%：:"),
    ),
    min_size=1,
    max_size=40,
).filter(lambda line: line.strip() != "")


@given(st.lists(_LINE, min_size=1, max_size=6))
def test_main_survives_any_text_before_a_full_signature(lines: list[str]) -> None:
    main = "\n".join(f"\u3000\u3000{line}。" for line in lines)
    parts = split_item(body(*SIGNATURE, main=main))
    assert parts.main == main
    assert parts.signature_count == 1
    assert parts.signature is not None
    assert parts.signature.phone == "38622000"


@given(st.text(max_size=300))
def test_split_item_never_raises(text: str) -> None:
    parts = split_item(text)
    assert parts.signature_count >= (parts.signature is not None)
    parse_signature(text)


# The unlabelled 落款: bare lines at the end of the body, as many officers type it.

NOV26 = dt.date(2026, 11, 26)
BARE_SIGNATURES = [
    (
        ["天河区政府办公室", "张三", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室 张三", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室\u3000张三", "电话：020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "张三", "电话 020-87654321", "2026-11-26"],
        "天河区政府办公室", "张三", "020-87654321", "2026-11-26",
    ),
    (
        ["天河區政府辦公室", "張三", "電話：020-87654321", "2026年11月26日"],
        "天河區政府辦公室", "張三", "020-87654321", "2026年11月26日",
    ),
    (
        ["越秀區人民政府辦公室 陳大文", "手機 13800138000", "二〇二六年十一月二十六日"],
        "越秀區人民政府辦公室", "陳大文", "13800138000", "二〇二六年十一月二十六日",
    ),
    (
        ["天河区政府办公室 张三 020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "张三 13800138000", "2026.11.26"],
        "天河区政府办公室", "张三", "13800138000", "2026.11.26",
    ),
    (
        ["天河区政府办张三", "020-87654321", "2026年11月26日"],
        "天河区政府办", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["（天河区政府办公室 张三）", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "欧阳明华", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "欧阳明华", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "张\u3000三", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "张三", "020-87654321（办）", "13800138000（手机）", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321、13800138000", "2026年11月26日",
    ),
    (
        ["作者单位：天河区政府办公室", "张三", "020-87654321", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["单位 天河区政府办公室", "姓名 张三", "电话 020-87654321", "日期 2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
    (
        ["天河区政府办公室", "", "张三", "", "020-87654321", "", "2026年11月26日"],
        "天河区政府办公室", "张三", "020-87654321", "2026年11月26日",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "unit", "name", "phone", "date_text"), BARE_SIGNATURES)
@pytest.mark.parametrize("after", [(), ("（完）",), ("来源：区统计局",)])
def test_unlabelled_signature_at_the_end(
    lines: list[str], unit: str, name: str, phone: str, date_text: str, after: tuple[str, ...]
) -> None:
    parts = split_item(body(*lines, *after))
    assert parts.main == MAIN
    assert parts.signature_count == 1
    assert parts.trailing == ""
    signature = parts.signature
    assert signature is not None
    assert (signature.unit, signature.name, signature.phone, signature.date_text) == (
        unit,
        name,
        phone,
        date_text,
    )
    assert signature.date == NOV26
    assert signature.phone_valid
    assert signature.raw == "\n".join(line for line in lines if line.strip())


@pytest.mark.parametrize(("lines", "unit", "name", "phone", "date_text"), BARE_SIGNATURES)
def test_parse_signature_reads_an_unlabelled_block(
    lines: list[str], unit: str, name: str, phone: str, date_text: str
) -> None:
    signature = parse_signature("\n".join(lines))
    assert signature is not None
    assert (signature.unit, signature.name, signature.phone, signature.date_text) == (
        unit,
        name,
        phone,
        date_text,
    )


@pytest.mark.parametrize(
    ("lines", "present"),
    [
        (["天河区政府办公室", "2026年11月26日"], {"unit", "date"}),  # the official-document 落款
        (["张三", "020-87654321"], {"name", "phone"}),
        (["天河区政府办公室", "020-87654321"], {"unit", "phone"}),
        (["天河区政府办公室 张三", "2026年11月26日"], {"unit", "name", "date"}),
    ],
)
def test_a_partial_unlabelled_signature_says_what_is_missing(lines: list[str], present: set[str]) -> None:
    parts = split_item(body(*lines))
    assert parts.main == MAIN
    signature = parts.signature
    assert signature is not None
    values = {
        "unit": signature.unit,
        "name": signature.name,
        "phone": signature.phone,
        "date": signature.date,
    }
    assert {key for key, value in values.items() if value is not None} == present


@pytest.mark.parametrize(
    "tail",
    [
        ["会议地点在市政府办公室", "020-87654321"],  # a sentence ending like a unit
        ["全区共有企业三百家", "2026年11月26日"],
        ["详情请拨打 020-87654321"],
        ["市民可拨打12345热线反映问题", "2026年11月26日"],
        ["高度重视", "2026年11月26日"],  # four characters, not a name
        ["下一步，我区将继续深化改革", "2026年11月26日"],
        ["特此报告。", "2026年11月26日"],
        ["2026年11月26日"],  # a date alone names nobody
        ["020-87654321"],
        ["张三", "李四", "王五", "2026年11月26日"],  # a list of people
        ["主持人：张三", "2026年11月26日"],
        ["天河区政府办公室", "张三"],  # no phone and no date to anchor it
    ],
)
def test_body_lines_are_not_taken_for_an_unlabelled_signature(tail: list[str]) -> None:
    main = MAIN + "\n" + "\n".join(tail)
    parts = split_item(body(main=main))
    signature = parts.signature
    assert signature is None or (signature.unit is None and signature.name is None)
    assert "\n".join(tail[:1]) in parts.main


def test_an_anchor_above_the_name_is_not_one_block() -> None:
    parts = split_item(body("2026年11月26日", "天河区政府办公室", "张三", main=MAIN))
    assert parts.signature is None or parts.signature.name is None


def test_a_labelled_signature_before_bare_sign_off_lines_stays_the_only_one() -> None:
    parts = split_item(body(*SIGNATURE, "天河区政府办公室", "2026年11月26日"))
    assert parts.signature_count == 1
    assert parts.signature is not None
    assert parts.signature.date == JAN8
    assert parts.signature.unit == "天河区政府办"


def test_labelled_fields_win_over_bare_ones() -> None:
    parts = split_item(body("天河区政府办公室", "姓名：李四", "020-87654321", "日期：2026年11月26日"))
    signature = parts.signature
    assert signature is not None
    assert (signature.unit, signature.name, signature.phone) == ("天河区政府办公室", "李四", "020-87654321")


@given(st.lists(_LINE, min_size=1, max_size=6))
def test_main_survives_any_text_before_an_unlabelled_signature(lines: list[str]) -> None:
    main = "\n".join(f"\u3000\u3000{line}。" for line in lines)
    parts = split_item(body("天河区政府办公室", "张三", "020-87654321", "2026年11月26日", main=main))
    assert parts.main == main
    assert parts.signature_count == 1
    assert parts.signature is not None
    assert (parts.signature.unit, parts.signature.name) == ("天河区政府办公室", "张三")


def test_many_phone_lines_stay_within_a_value() -> None:
    lines = ["天河区政府办公室", "张三", "020-87654321", "020-87654322", "13800138000", "13900139000"]
    signature = split_item(body(*lines, "2026年11月26日")).signature
    assert signature is not None
    assert signature.phone is not None
    assert signature.phone.startswith("020-87654321、020-87654322")
    assert len(signature.phone) <= 60
