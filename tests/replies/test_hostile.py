"""Replies to hostile or broken originals: one error type, IDNA domains, dropped ids, nothing echoed."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.clock import FrozenClock
from mailgate.errors import ConfigurationError
from mailgate.replies import Original, Rendered, Replies, ReplyError, ReplyFinding, wire_address

CST = dt.timezone(dt.timedelta(hours=8))
RECEIVED = dt.datetime(2026, 11, 26, 9, 30, tzinfo=CST)
CLOCK = FrozenClock(RECEIVED + dt.timedelta(seconds=4))
ITEM: dict[str, Any] = {
    "tracking": "20261126-000001",
    "unit": "天河区",
    "title": "天河区推进政务信息化建设",
    "inbox": "daily",
    "counting": "word",
    "body_chars": 120,
    "attachment_chars": None,
    "attachment_name": None,
    "officer": "张三",
    "phone": "020-87654321",
    "date": "2026-11-26",
    "revision": False,
    "revision_number": 1,
    "revises": None,
    "urgent": False,
    "commissioned": False,
    "commission_code": None,
}
FINDINGS = [ReplyFinding("body-length", "reject", "正文超过 450 字。")]
MAKER = Replies(sender="xxb@gz.gov.cn", clock=CLOCK)


def original(sender: str = "xxy@th.gz.gov.cn", **overrides: Any) -> Original:
    fields: dict[str, Any] = {
        "message_id": "1@th.gz.gov.cn",
        "references": (),
        "subject": "【天河区】天河区推进政务信息化建设",
        "sender": sender,
        "sender_name": "天河区政府办 张三",
        "received_at": RECEIVED,
    }
    return Original(**(fields | overrides))


RENDERERS: dict[str, Callable[[Replies, Original], Rendered]] = {
    "receipt": lambda maker, o: maker.render_receipt(o, ITEM, []),
    "rejection": lambda maker, o: maker.render_rejection(o, FINDINGS),
    "stranger": lambda maker, o: maker.render_stranger_notice(o),
}


def on_the_wire(rendered: Rendered) -> EmailMessage:
    """The reply as a client reads it: 7-bit, CRLF, and its To is the recipient."""
    raw = rendered.raw
    raw.decode("ascii")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    plain = email.message_from_bytes(raw)
    assert email.utils.getaddresses(plain.get_all("To", []))[-1][1] == rendered.recipient
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert [a.addr_spec for a in parsed["To"].addresses] == [rendered.recipient]
    return parsed


@pytest.mark.parametrize(
    "sender",
    [
        "张三@th.gz.gov.cn",  # non-ASCII local part (SMTPUTF8 is not used)
        "xxy.@th.gz.gov.cn",  # trailing dot in the local part
        ".xxy@th.gz.gov.cn",
        "x..y@th.gz.gov.cn",
        "xxy@th.gz.gov.cn.",  # trailing dot in the domain
        "=?utf-8?b?5byg5LiJ?=@th.gz.gov.cn",  # an encoded word
        "xxy@=?utf-8?b?5byg?=.cn",
        "xxy\r\n@th.gz.gov.cn",
        "xxy@th.gz.gov.cn\r\nBcc: all@gz.gov.cn",
        "xxy@",  # empty domain
        "@th.gz.gov.cn",
        "xxy",
        "xxy@localhost",
        "xxy@th..gov.cn",
        "xxy@-th.gov.cn",
        "xxy@1.2.3.4",
        "xxy@[10.0.0.1]",
        '"x y"@th.gz.gov.cn',
        "x\x00y@th.gz.gov.cn",
        "xxy@th.gz.gov.cn\ud800",
        "xxy@\ud800.cn",
        "a" * 65 + "@th.gz.gov.cn",
        "xxy@" + "a" * 250 + ".cn",
        "xxy@例子..中国",
    ],
)
@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_an_address_that_cannot_go_on_the_wire_is_a_reply_error(sender: str, kind: str) -> None:
    with pytest.raises(ReplyError) as caught:
        RENDERERS[kind](MAKER, original(sender))
    assert caught.value.reason == "unencodable_recipient"


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_an_empty_address_is_no_recipient(kind: str) -> None:
    with pytest.raises(ReplyError) as caught:
        RENDERERS[kind](MAKER, original(""))
    assert caught.value.reason == "no_recipient"


@pytest.mark.parametrize(
    ("sender", "wire"),
    [
        ("xxy@天河.中国", "xxy@xn--rssq86b.xn--fiqs8s"),
        ("xxy@天河。中国", "xxy@xn--rssq86b.xn--fiqs8s"),  # an ideographic full stop separates labels too
        ("xxy@TH.gz.gov.cn", "xxy@TH.gz.gov.cn"),
        ("o'brien+news@th.gz.gov.cn", "o'brien+news@th.gz.gov.cn"),
    ],
)
@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_international_domains_go_out_idna_encoded(sender: str, wire: str, kind: str) -> None:
    rendered = RENDERERS[kind](MAKER, original(sender))
    assert rendered.recipient == wire
    on_the_wire(rendered)


def test_the_alert_address_is_checked_too() -> None:
    assert MAKER.render_alert(original(), ITEM, "编辑@例子.中国".replace("编辑", "bianji")).recipient == (
        "bianji@xn--fsqu00a.xn--fiqs8s"
    )
    with pytest.raises(ReplyError):
        MAKER.render_alert(original(), ITEM, "bianji@")


def test_a_bad_editors_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="editors"):
        Replies(sender="xxb@gz.gov.cn", editors_address="bianji@")


def test_wire_address_is_exported() -> None:
    assert wire_address("a@例子.中国") == "a@xn--fsqu00a.xn--fiqs8s"


@pytest.mark.parametrize(
    "message_id",
    ["天河区.1@th.gz.gov.cn", "\\xcc\\xec@x" + "y" * 1000, "<>", "\r\n", "\ud800@x"],
)
def test_a_message_id_that_cannot_go_on_the_wire_leaves_the_reply_unthreaded(message_id: str) -> None:
    rendered = MAKER.render_rejection(
        original(message_id=message_id, references=("root@th.gz.gov.cn",)), FINDINGS
    )
    parsed = on_the_wire(rendered)
    assert parsed["In-Reply-To"] is None
    assert parsed["References"] is None
    assert all(len(line) <= 998 for line in rendered.raw.split(b"\r\n"))


def test_references_that_cannot_be_encoded_are_dropped() -> None:
    refs = ("root@th.gz.gov.cn", "天河@x", "a" * 2000 + "@x", "\x00\r\n", "last@th.gz.gov.cn")
    parsed = on_the_wire(MAKER.render_rejection(original(references=refs), FINDINGS))
    assert parsed["In-Reply-To"] == "<1@th.gz.gov.cn>"
    assert parsed["References"].split() == ["<root@th.gz.gov.cn>", "<last@th.gz.gov.cn>", "<1@th.gz.gov.cn>"]


def test_a_template_that_fails_on_one_message_is_a_reply_error(tmp_path: Path) -> None:
    folder = tmp_path / "zh-Hans"
    folder.mkdir()
    # Fine on the sample facts tried at start, broken on a subject the samples do not have.
    (folder / "rejection.body.j2").write_text(
        '{% if original.subject == "boom" %}{{ nothing }}{% endif %}退稿\n', encoding="utf-8"
    )
    maker = Replies(sender="xxb@gz.gov.cn", template_dir=tmp_path, clock=CLOCK)
    assert maker.render_rejection(original(), FINDINGS).raw
    with pytest.raises(ReplyError) as caught:
        maker.render_rejection(original(subject="boom"), FINDINGS)
    assert caught.value.reason == "template_failed"
    assert isinstance(caught.value.__cause__, ConfigurationError)


_ADDRESS_PARTS = st.sampled_from(
    [
        "xxy", "th", "gz", "gov", "cn", "@", ".", "..", "-", "张三", "天河", "中国", "。", "=?utf-8?b?", "?=",
        " ", "\r\n", "\x00", '"', "<", ">", ",", ";", ":", "(", ")", "[", "]", "\\", "+", "'", "xn--", "ß",
        "\u200b", "\ud800", "Ａ", "1", "_", "~", "!",
    ]
)  # fmt: skip
_LOCAL = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,4}){0,2}", fullmatch=True
)
_DOMAIN = st.sampled_from(
    ["th.gz.gov.cn", "天河.中国", "例子。中国", "xn--fiqs8s.cn", "a-b.c-d.cn", "Ｔｈ.cn"]
)
#: Mostly broken addresses, and addresses that are fine but unusual (every atext character, IDNs).
SENDERS = (
    st.text(max_size=40)
    | st.lists(_ADDRESS_PARTS, max_size=14).map("".join)
    | st.builds("{}@{}".format, _LOCAL, _DOMAIN)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sender=SENDERS, name=st.text(max_size=80), kind=st.sampled_from(sorted(RENDERERS)))
def test_property_any_sender_is_answered_on_the_wire_or_refused(sender: str, name: str, kind: str) -> None:
    try:
        rendered = RENDERERS[kind](MAKER, original(sender, sender_name=name))
    except ReplyError as exc:
        reason = exc.reason
    else:
        on_the_wire(rendered)
        return
    assert reason in ("no_recipient", "unencodable_recipient")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message_id=st.none() | st.text(max_size=60),
    references=st.lists(st.text(max_size=40), max_size=5).map(tuple),
    subject=st.text(max_size=200),
)
def test_property_any_original_ids_and_subject_still_give_a_reply(
    message_id: str | None, references: tuple[str, ...], subject: str
) -> None:
    rendered = MAKER.render_rejection(
        original(message_id=message_id, references=references, subject=subject), FINDINGS
    )
    on_the_wire(rendered)


# The stranger notice.

CANARIES = {
    "subject": "【天河区】领取补贴 http://evil.example.cn/claim 秘密标题",
    "sender_name": "Prize Desk www.evil-prize.cn 张三",
    "message_id": "canary-id-7781@evil.example.cn",
    "references": ("canary-ref-5512@evil.example.cn",),
}


def stranger(script: str = "zh-Hans", **kwargs: Any) -> EmailMessage:
    maker = Replies(sender="xxb@gz.gov.cn", script=script, clock=CLOCK, **kwargs)  # type: ignore[arg-type]
    return on_the_wire(maker.render_stranger_notice(original(**CANARIES)))


def text_of(msg: EmailMessage) -> str:
    content = msg.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant"])
def test_the_stranger_notice_quotes_nothing_of_the_message(script: str) -> None:
    msg = stranger(script)
    seen = text_of(msg) + "\n".join(f"{k}: {v}" for k, v in msg.items())
    for needle in ("evil", "http", "www", "秘密标题", "领取补贴", "Prize", "张三", "canary", "天河区推进"):
        assert needle not in seen
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None
    assert msg["To"].addresses[0].display_name == ""
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Loop"] == "mailgate"
    assert msg["X-Mailgate-Verdict"] == "rejected"
    assert len(text_of(msg)) < 400  # short


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("zh-Hans", ("未登记", "登记备案", "市政府办公厅新闻信息处", "2026年11月26日9时30分")),
        ("zh-Hant", ("未登記", "登記備案", "市政府办公厅新闻信息处", "2026年11月26日9時30分")),
    ],
)
def test_the_stranger_notice_says_how_to_register(script: str, words: tuple[str, ...]) -> None:
    msg = stranger(script)
    for word in words:
        assert word in text_of(msg) + str(msg["Subject"])
    assert "@" not in text_of(msg)  # no editors' address configured: none is named


@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant"])
def test_the_stranger_notice_names_the_editors_address_when_configured(script: str) -> None:
    assert "bianji@gz.gov.cn" in text_of(stranger(script, editors_address="bianji@gz.gov.cn"))


def test_the_stranger_notice_template_cannot_reach_the_message(tmp_path: Path) -> None:
    folder = tmp_path / "zh-Hans"
    folder.mkdir()
    (folder / "stranger.body.j2").write_text("{{ original.subject }}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="stranger"):
        Replies(sender="xxb@gz.gov.cn", template_dir=tmp_path)


# What the ordinary replies quote of the sender.


def test_the_rejection_quotes_the_subject_short_and_without_links() -> None:
    long_subject = "【天河区】" + "关于" * 80 + " 详见 https://evil.example.cn/x?a=1 与 www.evil.cn"
    msg = on_the_wire(
        MAKER.render_rejection(original(subject=long_subject, sender_name=CANARIES["sender_name"]), FINDINGS)
    )
    subject = str(msg["Subject"])
    assert subject.startswith("退稿通知：【天河区】关于")
    assert subject.endswith("…")
    assert len(subject) <= len("退稿通知：") + 60
    text = text_of(msg)
    assert "关于" * 20 in text
    assert "关于" * 40 not in text
    for needle in ("http", "evil", "www"):
        assert needle not in text
        assert needle not in subject
    assert text.startswith("Prize Desk （链接已略去） 张三：")
    assert msg["To"].addresses[0].display_name == "Prize Desk （链接已略去） 张三"


def test_traditional_replies_note_the_left_out_link_in_traditional() -> None:
    maker = Replies(sender="xxb@gz.gov.cn", script="zh-Hant", clock=CLOCK)
    msg = on_the_wire(maker.render_rejection(original(subject="見 http://a.cn"), FINDINGS))
    assert str(msg["Subject"]) == "退稿通知：見 （鏈接已略去）"


def test_an_international_sender_address_goes_out_idna_encoded() -> None:
    maker = Replies(sender="xxb@例子.中国", clock=CLOCK)
    msg = on_the_wire(maker.render_rejection(original(), FINDINGS))
    assert msg["From"].addresses[0].addr_spec == "xxb@xn--fsqu00a.xn--fiqs8s"
