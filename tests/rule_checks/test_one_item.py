"""one-item: one item and at most one Word document per email."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Attachment, Submission, WordKind, WordText
from rules import Finding
from rules.one_item import rule

RULE_ID = "one-item"
Check = Callable[..., list[Finding]]


def _doc(name: str | None) -> Attachment:
    return Attachment(name, "application/msword", 20_000, WordText(WordKind.DOC, "详细材料"))


def _image(name: str) -> Attachment:
    return Attachment(name, "image/jpeg", 20_000, None)


def test_single_item_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []
    assert check(rule, make_submission(attachments=(_doc("材料.doc"), _image("照片.jpg")))) == []


def test_two_signatures(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(parts={"signature_count": 2}))
    assert [(f.reason, f.params["signatures"]) for f in findings] == [("several_items", 2)]


def test_text_after_signature(make_submission: Callable[..., Submission], check: Check) -> None:
    second = "越秀区老城区改造启动\n越秀区今年将完成老旧小区微改造项目三十个，惠及居民两万户。"
    submission = make_submission(parts={"trailing": second})
    assert [f.reason for f in check(rule, submission)] == ["several_items"]


@pytest.mark.parametrize("sign_off", ["谢谢！", "（完）", "张三\n天河区政府办", "此致\n敬礼"])
def test_a_short_sign_off_after_the_signature_is_not_an_item(
    make_submission: Callable[..., Submission], check: Check, sign_off: str
) -> None:
    assert check(rule, make_submission(parts={"trailing": sign_off})) == []


def test_blank_trailing_text_is_nothing(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission(parts={"trailing": " \n\u3000"})) == []


def test_two_word_documents(make_submission: Callable[..., Submission], check: Check) -> None:
    submission = make_submission(attachments=(_doc("一.doc"), _image("x.jpg"), _doc(None)))
    findings = check(rule, submission)
    assert [(f.reason, f.params["count"], f.params["files"]) for f in findings] == [
        ("several_attachments", 2, "一.doc、application/msword")
    ]


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
