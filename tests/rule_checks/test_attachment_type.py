"""attachment-type: anything attached that is not a Word document is refused, by content."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailgate.mail.model import Attachment, Submission, WordKind, WordText
from rules import Finding
from rules.attachment_type import rule

RULE_ID = "attachment-type"
Check = Callable[..., list[Finding]]
DOCX = Attachment("材料.docx", "application/octet-stream", 9_000, WordText(WordKind.DOCX, "材料"))


def test_word_only_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []
    assert check(rule, make_submission(attachments=(DOCX,))) == []


def test_other_files_listed_in_one_finding(make_submission: Callable[..., Submission], check: Check) -> None:
    attachments = (
        Attachment("情况汇报.pdf", "application/pdf", 50_000, None),
        DOCX,
        Attachment(None, "image/png", 3_000, None),
    )
    findings = check(rule, make_submission(attachments=attachments))
    assert [(f.params["files"], f.params["count"]) for f in findings] == [("情况汇报.pdf、image/png", 2)]


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
