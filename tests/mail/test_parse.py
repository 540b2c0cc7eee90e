"""parse_message on the mail that units' clients really send, and on each encoding problem."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import docx
import pytest

from mailgate.mail.model import EncodingIssue, EncodingProblem, Submission, WordKind
from mailgate.mail.parse import MAX_HEADER_CHARS, MAX_HEADERS, parse_message

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"
TITLE = "天河区推进政务信息化建设"
BODY = (
    f"{TITLE}\n近日，天河区召开政务信息化工作会议，部署2004年重点任务。\n"
    "作者单位：天河区政府办\n姓名：张三\n联系电话：020-38622000\n日期：2004年1月8日\n"
)


def fixture(name: str) -> Submission:
    return parse_message((FIXTURES / name).read_bytes())


def plain(body: str = BODY, charset: str = "utf-8", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "张三 <xxy@th.gz.gov.cn>")
    msg["Subject"] = headers.pop("Subject", f"【天河区】{TITLE}")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset=charset)
    return msg


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_foxmail_gb2312_alternative() -> None:
    s = fixture("foxmail.eml")
    assert s.subject.identifier == "天河区"
    assert s.subject.title == TITLE
    assert s.from_address == "xxy@th.gz.gov.cn"
    assert s.from_name == "天河区 张三"
    assert s.message_id == "200401081000001234567@th.gz.gov.cn"
    assert s.date == dt.datetime(2004, 1, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert not s.body_from_html
    assert s.parts.title == TITLE
    assert s.parts.signature is not None
    assert s.parts.signature.name == "张三"
    assert s.attachments == ()  # the text/html alternative is not an attachment
    assert s.encoding_issues == ()
    assert s.header("x-mailer") == "Foxmail 7.2.25.228[cn]"


def test_outlook_related_alternative_with_inline_image() -> None:
    s = fixture("outlook.eml")
    assert s.subject.urgent
    assert s.from_name == "天河区政府办"
    assert s.header("thread-index") == "AdOhssPU5fBrfI2ea3yNnmt8jZ5rfA=="
    assert s.body.startswith(TITLE + "\n近日")
    assert s.parts.signature is not None
    assert s.parts.signature.phone == "020-38622000"
    assert s.attachments == ()  # image001.png is referenced by cid: from the HTML
    assert s.encoding_issues == ()


def test_webmail_html_only_utf8() -> None:
    s = fixture("webmail_html.eml")
    assert s.body_from_html
    assert s.parts.title == TITLE
    assert "track()" not in s.body
    assert s.parts.signature is not None
    assert s.parts.signature.unit == "天河区政府办"
    assert s.from_name == "越秀区信息科"
    assert s.subject.identifier == "越秀区"
    assert s.attachments == ()
    assert s.encoding_issues == ()


def test_big5_traditional() -> None:
    s = fixture("big5.eml")
    assert s.subject.identifier == "荔灣區"
    assert s.from_name == "荔灣區 李四"
    assert s.parts.title == "天河區推進政務信息化建設"
    assert s.parts.signature is not None
    assert s.parts.signature.name == "張三"
    assert s.encoding_issues == ()


def test_utf8_subject_split_inside_characters() -> None:
    s = fixture("utf8_split_subject.eml")
    assert s.subject.raw == "【海珠区】" + TITLE
    assert s.from_name == "Wang Wu"
    assert s.encoding_issues == ()


def test_rfc2231_and_rfc2047_file_names() -> None:
    s = fixture("rfc2231.eml")
    names = [a.filename for a in s.attachments]
    assert names == ["天河区信息材料（详细）.txt", "统计表.xls"]
    assert s.attachments[0].content_type == "text/plain"  # a text part with a file name is attached
    assert s.attachments[0].size == len("附件材料".encode())
    assert s.attachments[1].word is None
    assert s.subject.raw == f"【天河区】{TITLE}"  # white space between encoded words is dropped


def test_quoted_history_is_cut_and_threading_headers_read() -> None:
    s = fixture("quoted.eml")
    assert "原始邮件" not in s.body
    assert "请修改后重新报送" not in s.body
    assert s.body.endswith("日期：2004年1月8日")
    assert s.subject.revision
    assert s.in_reply_to == "notice-77@gz.gov.cn"
    assert s.references == ("item-76@th.gz.gov.cn", "notice-77@gz.gov.cn")
    assert s.return_path == "xxy@th.gz.gov.cn"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gbk_as_latin1.eml", {("subject", EncodingProblem.MOJIBAKE), ("body", EncodingProblem.MOJIBAKE)}),
        ("utf8_as_gbk.eml", {("subject", EncodingProblem.MOJIBAKE), ("body", EncodingProblem.MOJIBAKE)}),
        (
            "undeclared_8bit.eml",
            {("subject", EncodingProblem.UNDECLARED_8BIT), ("body", EncodingProblem.UNDECLARED_8BIT)},
        ),
        ("question_marks.eml", {("subject", EncodingProblem.MOJIBAKE), ("body", EncodingProblem.MOJIBAKE)}),
        ("unknown_charset.eml", {("body", EncodingProblem.UNKNOWN_CHARSET)}),
    ],
)
def test_encoding_problems_are_reported(name: str, expected: set[tuple[str, EncodingProblem]]) -> None:
    s = fixture(name)
    assert {(i.part, i.problem) for i in s.encoding_issues} == expected


@pytest.mark.parametrize(
    "name", ["gbk_as_latin1.eml", "utf8_as_gbk.eml", "undeclared_8bit.eml", "unknown_charset.eml"]
)
def test_encoding_problems_still_give_readable_text(name: str) -> None:
    s = fixture(name)
    assert s.subject.title == TITLE
    assert s.parts.title == TITLE


def test_undeclared_8bit_body_detail_is_the_guess() -> None:
    issue = next(i for i in fixture("undeclared_8bit.eml").encoding_issues if i.part == "body")
    assert issue.detail == "gb18030"


def test_unknown_charset_detail_is_its_name() -> None:
    assert fixture("unknown_charset.eml").encoding_issues == (
        EncodingIssue("body", EncodingProblem.UNKNOWN_CHARSET, "x-mac-chinesesimp-unknown"),
    )


def test_truncated_base64_decodes_what_it_can() -> None:
    s = fixture("truncated_base64.eml")
    assert s.parts.title == TITLE
    assert "InvalidBase64PaddingDefect" in s.defects


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_has_hash_and_size(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    s = parse_message(raw)
    assert s.content_hash == hashlib.sha256(raw).hexdigest()
    assert s.raw_size == len(raw)
    assert not s.truncated


@pytest.mark.parametrize("codec", ["gb2312", "gbk", "gb18030", "utf-8"])
def test_correct_chinese_in_every_encoding_has_no_issues(codec: str) -> None:
    msg = plain(charset=codec)
    s = parse_message(msg.as_bytes())
    assert s.encoding_issues == ()
    assert s.parts.title == TITLE
    assert s.from_name == "张三"


def test_gbk_only_characters_under_gb2312_label() -> None:
    body = "朱镕基同志考察\n" + BODY
    raw = (
        b"Subject: =?gb2312?B?" + base64.b64encode("【天河区】镕".encode("gbk")) + b"?=\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.encode("gbk")
    )
    s = parse_message(raw)
    assert s.subject.raw == "【天河区】镕"
    assert s.body.startswith("朱镕基")
    assert s.encoding_issues == ()


def test_docx_attachment_is_read() -> None:
    outer = MIMEMultipart()
    outer["Subject"] = f"【天河区】{TITLE}"
    outer["From"] = "xxy@th.gz.gov.cn"
    outer.attach(MIMEText(BODY, "plain", "gb2312"))
    part = MIMEApplication(docx_bytes("详细材料\n第二段"), "octet-stream")
    part.add_header("Content-Disposition", "attachment", filename=("gb2312", "", "详细材料.docx"))
    outer.attach(part)
    s = parse_message(outer.as_bytes())
    assert len(s.attachments) == 1
    attachment = s.attachments[0]
    assert attachment.filename == "详细材料.docx"
    assert attachment.word is not None
    assert attachment.word.kind is WordKind.DOCX
    assert attachment.word.text is not None
    assert "详细材料" in attachment.word.text


def test_attached_message_and_tnef_are_attachments_not_bodies() -> None:
    inner = plain(body="转发的正文\n", Subject="inner")
    outer = MIMEMultipart()
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    outer.attach(MIMEMessage(inner))
    tnef = MIMEApplication(b"\x78\x9f\x3e\x22" + b"\x00" * 60, "ms-tnef")
    tnef.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    outer.attach(tnef)
    s = parse_message(outer.as_bytes())
    assert [a.content_type for a in s.attachments] == ["message/rfc822", "application/ms-tnef"]
    assert s.attachments[0].size > 0
    assert s.attachments[1].filename == "winmail.dat"
    assert all(a.word is None for a in s.attachments)
    assert "转发的正文" not in s.body


def test_html_alternative_used_when_plain_is_empty() -> None:
    outer = MIMEMultipart("alternative")
    outer.attach(MIMEText("  \n", "plain", "utf-8"))
    outer.attach(MIMEText(f"<p>{TITLE}</p><p>正文</p>", "html", "utf-8"))
    s = parse_message(outer.as_bytes())
    assert s.body_from_html
    assert s.body == f"{TITLE}\n正文"
    assert s.attachments == ()


def test_unreferenced_image_is_an_attachment_referenced_one_is_not() -> None:
    related = MIMEMultipart("related")
    related.attach(MIMEText('<p>正文</p><img src="cid:logo%40unit">', "html", "utf-8"))
    for cid in ("<logo@unit>", "<photo@unit>"):
        image = MIMEApplication(b"\x89PNG\r\n\x1a\n", "png")
        image.replace_header("Content-Type", "image/png")
        image["Content-ID"] = cid
        related.attach(image)
    s = parse_message(related.as_bytes())
    assert s.body == "正文"
    assert len(s.attachments) == 1


def test_inline_text_with_attachment_disposition_is_attached() -> None:
    outer = MIMEMultipart()
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    extra = MIMEText("第二篇稿件", "plain", "utf-8")
    extra.add_header("Content-Disposition", "attachment")
    outer.attach(extra)
    s = parse_message(outer.as_bytes())
    assert len(s.attachments) == 1
    assert s.attachments[0].filename is None


def test_headers_are_decoded_and_listed() -> None:
    msg = plain(
        Return_Path="<>",
        In_Reply_To="<a@b>",
        References="<x@y> <a@b>",
        Message_ID="  <id@th>  ",
        Date="Thu, 8 Jan 2004 10:00:00",
    )
    msg["X-Note"] = "=?utf-8?B?5aSp5rKz?="
    s = parse_message(msg.as_bytes())
    assert s.return_path == ""
    assert s.in_reply_to == "a@b"
    assert s.references == ("x@y", "a@b")
    assert s.message_id == "id@th"
    assert s.date == dt.datetime(2004, 1, 8, 10, 0, tzinfo=dt.UTC)  # naive dates are taken as UTC
    assert ("x-note", "天河") in s.headers
    assert s.header("Subject") == f"【天河区】{TITLE}"
    assert s.header_values("received") == []


def test_missing_and_bad_headers() -> None:
    s = parse_message(b"Date: not a date\r\nFrom: nobody\r\n\r\nbody\r\n")
    assert s.date is None
    assert s.return_path is None
    assert s.message_id is None
    assert s.references == ()
    assert s.subject.raw == ""
    assert s.from_address == "nobody"


def test_raw_utf8_headers_are_accepted() -> None:
    raw = f"From: 张三 <XXY@th.gz.gov.cn>\r\nSubject: 【天河区】{TITLE}\r\n\r\n".encode() + BODY.encode()
    s = parse_message(raw)
    assert s.subject.title == TITLE
    assert s.from_name == "张三"
    assert s.from_address == "xxy@th.gz.gov.cn"
    assert {i.part for i in s.encoding_issues} == {"body"}  # only the body lacks a charset


def test_raw_gbk_from_name_is_undeclared_8bit() -> None:
    raw = "From: 张三 <xxy@th.gz.gov.cn>\r\n\r\nx".encode("gbk")
    s = parse_message(raw)
    assert s.from_name == "张三"
    assert s.encoding_issues == (EncodingIssue("from", EncodingProblem.UNDECLARED_8BIT, "gb18030"),)


def test_header_count_and_length_are_capped() -> None:
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADERS + 10))
    long = b"X-Long: " + b"a" * (MAX_HEADER_CHARS * 3) + b"\r\n"
    s = parse_message(long + fields + b"Subject: late\r\n\r\nbody")
    assert len(s.headers) == MAX_HEADERS
    assert len(s.headers[0][1]) == MAX_HEADER_CHARS
    assert s.subject.raw == "late"  # wanted fields are still read past the cap
    assert any(d.startswith("too_many_headers") for d in s.defects)
    assert any(d.startswith("header_too_long") for d in s.defects)


def test_max_size_reads_only_headers() -> None:
    outer = MIMEMultipart()
    outer["Subject"] = f"【天河区】{TITLE}"
    outer["From"] = "xxy@th.gz.gov.cn"
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    outer.attach(MIMEApplication(b"\x00" * 5000))
    raw = outer.as_bytes()
    s = parse_message(raw, max_size=1000)
    assert s.truncated
    assert s.subject.title == TITLE
    assert s.from_address == "xxy@th.gz.gov.cn"
    assert s.body == ""
    assert s.attachments == ()
    assert s.raw_size == len(raw)
    assert not parse_message(raw, max_size=len(raw)).truncated


def test_newlines_bom_and_nul_are_normalised() -> None:
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "\ufeff标题\r\n正文\r旧行\x00\r\n".encode()
    s = parse_message(raw)
    assert s.body == "标题\n正文\n旧行\n"
    assert s.parts.title == "标题"
