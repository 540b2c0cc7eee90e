"""Replies: what receipts, rejection notices and alerts say, how they thread, and operator overrides."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgate.clock import FrozenClock
from mailgate.errors import ConfigurationError, MailgateError
from mailgate.mail.parse import parse_message
from mailgate.replies import Original, Replies, ReplyError, ReplyFinding, ReplyKind

CST = dt.timezone(dt.timedelta(hours=8))
SUBJECT = "【天河区】天河区软件产业园区建设成效明显"
TITLE = "天河区软件产业园区建设成效明显"

ORIGINAL = Original(
    message_id="200401080958310001@th.gz.gov.cn",
    references=("200401070900000001@th.gz.gov.cn", "200401071000000002@gz.gov.cn"),
    subject=SUBJECT,
    sender="xxy@th.gz.gov.cn",
    sender_name="天河区政府办 张三",
    received_at=dt.datetime(2004, 1, 8, 10, 0, tzinfo=CST),
)
ITEM: dict[str, Any] = {
    "tracking": "20040108-000042",
    "unit": "天河区",
    "title": TITLE,
    "inbox": "daily",
    "counting": "word",
    "body_chars": 386,
    "attachment_chars": 2150,
    "attachment_name": "软件产业园区.docx",
    "officer": "张三",
    "phone": "020-38622000",
    "date": "2004-01-08",
    "revision": True,
    "revision_number": 3,
    "revises": "20040107-000031",
    "urgent": True,
    "commissioned": False,
    "commission_code": None,
}
WARNING = ReplyFinding("stale-date", "warn", "落款日期早于收件日期 7 天以上，请核对落款日期。")
FINDINGS = (
    ReplyFinding(
        "sender-name", "reject", "发件人显示名称“张三”不含单位名称，请在邮箱设置中改为“天河区政府办”。"
    ),
    ReplyFinding("required-elements", "reject", "落款缺少联系电话，请补上“联系电话：……”。"),
    ReplyFinding("body-length", "reject", "正文共 512 字，超过 450 字的上限，请删减至少 62 字。"),
    ReplyFinding("attachment-type", "reject", "附件“图片.jpg”不是 Word 文档，请删除或改为 Word 文档。"),
    ReplyFinding("stale-date", "warn", "落款日期早于收件日期 7 天以上，请核对落款日期。"),
)
EDITORS = "bianji@gz.gov.cn"
#: The moment every reply of these tests is written: a few seconds after the original arrived.
NOW = dt.datetime(2004, 1, 8, 2, 0, 7, tzinfo=dt.UTC)

#: The labels and set phrases of each script, as the packaged templates write them.
WORDS = {
    "zh-Hans": {
        "receipt": "回执：",
        "alert": "【紧急信息】",
        "tracking": "受理编号：",
        "body": "正文字数：386 字（按 Word 字数统计）",
        "chars": "按非空白字符计",
        "attachment": "附件字数：2150 字",
        "revision": "第 3 稿",
        "revise": "【天河区】【修改稿】" + TITLE,
        "reply": "请直接回复本回执",
        "quote": "请引用受理编号 20040108-000042",
        "resubmit": "请以新邮件重新报送",
        "time": "2004年1月8日10时00分",
    },
    "zh-Hant": {
        "receipt": "回執：",
        "alert": "【緊急信息】",
        "tracking": "受理編號：",
        "body": "正文字數：386 字（按 Word 字數統計）",
        "chars": "按非空白字符計",
        "attachment": "附件字數：2150 字",
        "revision": "第 3 稿",
        "revise": "【天河区】【修改稿】" + TITLE,
        "reply": "請直接回覆本回執",
        "quote": "請引用受理編號 20040108-000042",
        "resubmit": "請以新郵件重新報送",
        "time": "2004年1月8日10時00分",
    },
}
SCRIPTS = sorted(WORDS)


def replies(**kwargs: Any) -> Replies:
    kwargs.setdefault("clock", FrozenClock(NOW))
    return Replies(sender="xxb@gz.gov.cn", **kwargs)


def make(maker: Replies, kind: ReplyKind, original: Original = ORIGINAL) -> EmailMessage:
    """One reply of each kind, on the sample facts."""
    return {
        ReplyKind.RECEIPT: lambda: maker.receipt(original, ITEM, [WARNING]),
        ReplyKind.REJECTION: lambda: maker.rejection(original, FINDINGS),
        ReplyKind.ALERT: lambda: maker.alert(original, ITEM, EDITORS),
        ReplyKind.STRANGER: lambda: maker.stranger_notice(original),
    }[kind]()


def reparse(msg: EmailMessage) -> EmailMessage:
    """The message as a recipient's client reads it off the wire."""
    parsed = email.message_from_bytes(bytes(msg), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(msg: EmailMessage) -> str:
    content = reparse(msg).get_content()
    assert isinstance(content, str)
    # Base64 carries text in MIME canonical form, CRLF line ends; clients show them as line breaks.
    return content.replace("\r\n", "\n")


@pytest.mark.parametrize("script", SCRIPTS)
def test_receipt_states_every_fact(script: str) -> None:
    words = WORDS[script]
    msg = replies(script=script).receipt(ORIGINAL, ITEM, [WARNING])
    assert (
        reparse(msg)["Subject"] == f"{words['receipt']}{SUBJECT}（{words['tracking'][2:4]} 20040108-000042）"
    )
    text = body(msg)
    for expected in (
        words["tracking"] + "20040108-000042",
        TITLE,
        "天河区",
        words["body"],
        words["attachment"] + "（软件产业园区.docx）",
        words["revision"],
        "20040107-000031",
        "1. " + WARNING.message,
        words["revise"],
        words["reply"],
        words["quote"],
        words["time"],
        "市政府办公厅新闻信息处",
    ):
        assert expected in text


@pytest.mark.parametrize("script", SCRIPTS)
def test_receipt_leaves_out_what_does_not_apply(script: str) -> None:
    item = {
        **ITEM,
        "counting": "chars",
        "attachment_chars": None,
        "attachment_name": None,
        "revision": False,
        "revision_number": 1,
        "revises": None,
    }
    text = body(replies(script=script).receipt(ORIGINAL, item, []))
    assert WORDS[script]["chars"] in text
    assert "Word" not in text
    assert WORDS[script]["attachment"][:4] not in text
    assert "稿　　次" not in text
    assert "1. " not in text


def test_receipt_for_a_commission_tells_the_full_revision_subject() -> None:
    item = {**ITEM, "inbox": "commissioned", "commissioned": True, "commission_code": "2004-01"}
    text = body(replies().receipt(ORIGINAL, item, []))
    assert f"“【天河区】【修改稿】【约稿:2004-01】{TITLE}”" in text
    assert "约稿编号：2004-01" in text


@pytest.mark.parametrize("script", SCRIPTS)
def test_rejection_lists_all_five_findings(script: str) -> None:
    msg = replies(script=script).rejection(ORIGINAL, FINDINGS)
    assert reparse(msg)["Subject"] == f"退稿通知：{SUBJECT}"
    lines = body(msg).splitlines()
    for number, finding in enumerate(FINDINGS, start=1):
        assert any(line.startswith(f"{number}. {finding.message}") for line in lines)
    assert not any(line.startswith("6. ") for line in lines)
    assert WORDS[script]["resubmit"] in body(msg)
    assert msg["X-Mailgate-Verdict"] == "rejected"
    assert msg["X-Mailgate-Tracking"] is None


def test_rejection_marks_warnings_as_not_blocking() -> None:
    lines = body(replies().rejection(ORIGINAL, FINDINGS)).splitlines()
    assert next(line for line in lines if line.startswith("5. ")).endswith("（提示，不影响受理）")
    assert not next(line for line in lines if line.startswith("1. ")).endswith("（提示，不影响受理）")


@pytest.mark.parametrize("script", SCRIPTS)
def test_alert_goes_to_the_editors(script: str) -> None:
    msg = replies(script=script).alert(ORIGINAL, ITEM, EDITORS)
    parsed = reparse(msg)
    assert parsed["Subject"] == f"{WORDS[script]['alert']}天河区：{TITLE}"
    assert parsed["To"] == EDITORS
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["In-Reply-To"] is None
    assert parsed["X-Mailgate-Tracking"] == "20040108-000042"
    text = body(msg)
    assert "020-38622000" in text
    assert ORIGINAL.sender in text
    assert SUBJECT in text


@pytest.mark.parametrize("kind", list(ReplyKind))
def test_every_reply_carries_the_loop_and_ops_headers(kind: ReplyKind) -> None:
    maker = replies(loop_marker="gz-notices", domain="notices.gz.gov.cn")
    parsed = reparse(make(maker, kind))
    assert parsed["Auto-Submitted"] in {"auto-replied", "auto-generated"}
    assert parsed["X-Loop"] == "gz-notices"
    assert parsed["Precedence"] is None
    assert parsed["Message-ID"].endswith("@notices.gz.gov.cn>")
    rejected = kind in (ReplyKind.REJECTION, ReplyKind.STRANGER)
    assert parsed["X-Mailgate-Verdict"] == ("rejected" if rejected else "accepted")
    assert parsed["From"].addresses[0].display_name == "市政府办公厅新闻信息处"
    assert parsed["From"].addresses[0].addr_spec == "xxb@gz.gov.cn"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    sent = email.utils.parsedate_to_datetime(parsed["Date"])
    assert sent.utcoffset() == dt.timedelta(hours=8)  # in the zone the original arrived in
    assert sent == NOW
    assert parsed["Message-ID"].startswith("<20040108100007.")


def test_the_date_follows_the_clock() -> None:
    clock = FrozenClock(NOW)
    maker = replies(clock=clock)
    clock.advance(dt.timedelta(days=400, minutes=3))
    sent = email.utils.parsedate_to_datetime(reparse(maker.rejection(ORIGINAL, FINDINGS))["Date"])
    assert sent == NOW + dt.timedelta(days=400, minutes=3)


def test_from_settings_takes_the_clock() -> None:
    from mailgate.config import Settings

    maker = Replies.from_settings(Settings(), clock=FrozenClock(NOW))
    assert email.utils.parsedate_to_datetime(reparse(maker.rejection(ORIGINAL, FINDINGS))["Date"]) == NOW


def test_message_ids_are_fresh() -> None:
    maker = replies()
    ids = {maker.receipt(ORIGINAL, ITEM, [])["Message-ID"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("kind", [ReplyKind.RECEIPT, ReplyKind.REJECTION])
def test_replies_thread_under_the_original(kind: ReplyKind) -> None:
    maker = replies()
    msg = (
        maker.receipt(ORIGINAL, ITEM, [])
        if kind is ReplyKind.RECEIPT
        else maker.rejection(ORIGINAL, FINDINGS)
    )
    parsed = reparse(msg)
    assert parsed["In-Reply-To"] == "<200401080958310001@th.gz.gov.cn>"
    assert parsed["References"].split() == [
        "<200401070900000001@th.gz.gov.cn>",
        "<200401071000000002@gz.gov.cn>",
        "<200401080958310001@th.gz.gov.cn>",
    ]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["To"].addresses[0].addr_spec == "xxy@th.gz.gov.cn"
    assert parsed["To"].addresses[0].display_name == "天河区政府办 张三"


def test_without_a_message_id_there_is_nothing_to_thread() -> None:
    original = Original(None, ("a@b",), SUBJECT, "xxy@th.gz.gov.cn", "", ORIGINAL.received_at)
    msg = replies().receipt(original, ITEM, [])
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None
    assert body(msg).startswith("xxy@th.gz.gov.cn：")


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("", "no_recipient"),
        (" ", "no_recipient"),
        ("张三", "unencodable_recipient"),
        ("a b@c.cn", "unencodable_recipient"),
        ("x@y@z.cn", "unencodable_recipient"),
        ("a@b.cn>", "unencodable_recipient"),
    ],
)
def test_an_unanswerable_sender_is_a_reply_error(sender: str, reason: str) -> None:
    original = Original("id@th.gz.gov.cn", (), SUBJECT, sender, "", ORIGINAL.received_at)
    with pytest.raises(ReplyError) as caught:
        replies().rejection(original, FINDINGS)
    assert caught.value.reason == reason
    assert isinstance(caught.value, MailgateError)
    assert str(caught.value) == f"reply not built: {reason}"  # no message content in the error


def test_long_reference_chains_keep_the_root_and_the_latest() -> None:
    refs = tuple(f"{n}@th.gz.gov.cn" for n in range(40))
    original = Original("parent@th.gz.gov.cn", refs, SUBJECT, "xxy@th.gz.gov.cn", "", ORIGINAL.received_at)
    ids = reparse(replies().rejection(original, FINDINGS))["References"].split()
    assert len(ids) == 20
    assert ids[0] == "<0@th.gz.gov.cn>"
    assert ids[-2:] == ["<39@th.gz.gov.cn>", "<parent@th.gz.gov.cn>"]


@pytest.mark.parametrize("kind", list(ReplyKind))
def test_bytes_are_crlf_and_parse_back_intact(kind: ReplyKind) -> None:
    msg = make(replies(script="zh-Hant"), kind)
    raw = bytes(msg)
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert raw.count(b"\r") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    raw.decode("ascii")  # 7-bit clean: every relay can carry it
    parsed = reparse(msg)
    assert parsed["Subject"] == msg["Subject"]
    assert parsed.get_content() == msg.get_content()
    assert (TITLE in parsed.get_content()) is (kind is not ReplyKind.STRANGER)


def test_our_own_replies_are_recognised_as_machine_mail() -> None:
    submission = parse_message(bytes(replies().receipt(ORIGINAL, ITEM, [])))
    assert submission.header("auto-submitted") == "auto-replied"
    assert submission.header_values("x-loop") == ["mailgate"]
    assert submission.subject.raw.startswith("回执：")


MAKER = replies()
#: Format characters replies remove besides controls: bidi marks, embeddings, overrides, isolates, BOM.
STRIPPED = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
#: Text a subject or a finding may hold once control characters are gone: no controls, no line breaks.
_LINE = st.text(
    st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"], exclude_characters=STRIPPED),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip() == s and s.strip() and "=?" not in s)


@settings(max_examples=150, deadline=None)
@given(subject=_LINE, message=_LINE, name=st.text(st.characters(exclude_categories=["Cs"]), max_size=60))
def test_any_subject_message_and_name_survive_the_wire(subject: str, message: str, name: str) -> None:
    original = Original("x@th.gz.gov.cn", (), subject, "xxy@th.gz.gov.cn", name, ORIGINAL.received_at)
    msg = MAKER.rejection(original, [ReplyFinding("body-length", "reject", message)])
    parsed = reparse(msg)
    quoted = subject if len(subject) <= 60 else subject[:59].rstrip() + "…"
    assert parsed["Subject"] == f"退稿通知：{quoted}"
    assert f"1. {message}\n" in body(msg)
    assert [address.addr_spec for address in parsed["To"].addresses] == ["xxy@th.gz.gov.cn"]
    assert all(len(line) <= 78 for line in bytes(msg).split(b"\r\n"))


def test_control_characters_are_stripped_from_values() -> None:
    original = Original(
        "id@th.gz.gov.cn",
        (),
        "【天河区】\x1b[31m标题\r\nBcc: everyone@gz.gov.cn",
        "xxy@th.gz.gov.cn",
        "张三\u202e",
        ORIGINAL.received_at,
    )
    item = {**ITEM, "title": "标\x00题\u202e", "unit": "天河\x07区"}
    msg = replies().receipt(original, item, [ReplyFinding("x", "warn", "提示\x1b内容")])
    parsed = reparse(msg)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "回执：【天河区】[31m标题 Bcc: everyone@gz.gov.cn（编号 20040108-000042）"
    text = body(msg)
    assert "信息标题：标题\n" in text
    assert "报送单位：天河区\n" in text
    assert "1. 提示内容\n" in text
    assert not any(ch in text for ch in "\x00\x07\x1b\u202e\r")


def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")


def test_operator_templates_win_and_the_rest_fall_back(tmp_path: Path) -> None:
    write(tmp_path / "zh-Hans", "receipt.body.j2", "已受理：{{ item.tracking }}（{{ office }}）\n")
    write(tmp_path / "zh-Hans", "receipt.subject.j2", "受理 {{ item.tracking }}\n")
    maker = replies(template_dir=tmp_path)
    receipt = maker.receipt(ORIGINAL, ITEM, [])
    assert body(receipt) == "已受理：20040108-000042（市政府办公厅新闻信息处）\n"
    assert reparse(receipt)["Subject"] == "受理 20040108-000042"
    assert reparse(maker.rejection(ORIGINAL, FINDINGS))["Subject"] == f"退稿通知：{SUBJECT}"


def test_overrides_are_per_script(tmp_path: Path) -> None:
    write(tmp_path / "zh-Hant", "rejection.body.j2", "退稿{{ findings | length }}項\n")
    write(tmp_path / "zh-Hans", "rejection.body.j2", "退稿{{ findings | length }}项\n")
    assert body(replies(script="zh-Hant", template_dir=tmp_path).rejection(ORIGINAL, FINDINGS)) == "退稿5項\n"


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("receipt.body.j2", "{{ item.trackin }}\n", "trackin"),
        ("rejection.body.j2", "{% for f in findings %}{{ f.mesage }}{% endfor %}\n", "mesage"),
        ("alert.subject.j2", "{% if item.urgent %}紧急\n", "endif"),
        ("receipt.body.j2", "{{ item.body_chars + '字' }}\n", "unsupported operand"),
        # Only reached for a revision, which the check at start-up renders too.
        ("receipt.body.j2", "{% if item.revision %}{{ item.revison_number }}{% endif %}\n", "revison_number"),
        # Only reached when there is no attachment.
        ("alert.body.j2", "{% if item.attachment_chars is none %}{{ nothing }}{% endif %}\n", "nothing"),
    ],
)
def test_a_broken_override_fails_at_construction(tmp_path: Path, name: str, text: str, needle: str) -> None:
    write(tmp_path / "zh-Hans", name, text)
    with pytest.raises(ConfigurationError, match=name.replace(".", r"\.")) as caught:
        replies(template_dir=tmp_path)
    assert needle in str(caught.value)
    assert isinstance(caught.value.__cause__, jinja2.TemplateError | TypeError)


def test_a_misnamed_override_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "zh-Hans", "reciept.body.j2", "{{ item.tracking }}\n")
    with pytest.raises(ConfigurationError, match="reciept"):
        replies(template_dir=tmp_path)


def test_a_missing_override_directory_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "zh-Hans", "receipt.body.j2", "{{ item.tracking }}\n")
    with pytest.raises(ConfigurationError, match="zh-Hant"):
        replies(script="zh-Hant", template_dir=tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sender": "not an address"},
        {"sender": "xxb@gz.gov.cn", "domain": "bad domain"},
        {"sender": "xxb@gz.gov.cn", "loop_marker": "a\nb"},
        {"sender": "xxb@gz.gov.cn", "loop_marker": " "},
        {"sender": "xxb@gz.gov.cn", "script": "zh-TW"},
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Replies(**kwargs)


def _packaged(script: str) -> dict[str, str]:
    folder = resources.files("mailgate.replies") / "templates" / script
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".j2")
    }


def test_packaged_templates_cover_every_kind_in_both_scripts() -> None:
    expected = {f"{kind.value}.{part}.j2" for kind in ReplyKind for part in ("subject", "body")}
    assert set(_packaged("zh-Hans")) == expected
    assert set(_packaged("zh-Hant")) == expected


def test_traditional_templates_are_written_in_traditional() -> None:
    to_simplified, to_traditional = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
    simplified, traditional = _packaged("zh-Hans"), _packaged("zh-Hant")
    for name, text in traditional.items():
        assert to_traditional.convert(text) == text, name
        assert to_simplified.convert(simplified[name]) == simplified[name], name
        assert text != simplified[name] or name == "rejection.subject.j2"
        quotes = str.maketrans("「」", "“”")
        assert to_simplified.convert(text).translate(quotes) == simplified[name], name
