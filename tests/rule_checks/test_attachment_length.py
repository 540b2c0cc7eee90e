"""attachment-length: the Word document's text is within the configured 字 limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailgate.config import RulesSettings
from mailgate.mail.counting import CountMode
from mailgate.mail.model import Attachment, Submission, WordKind, WordProblem, WordText
from rules import Context, Finding
from rules.attachment_length import rule

RULE_ID = "attachment-length"
Check = Callable[..., list[Finding]]


def _docx(text: str | None, problem: WordProblem | None = None) -> Attachment:
    return Attachment(
        "详细材料.docx", "application/octet-stream", 30_000, WordText(WordKind.DOCX, text, problem)
    )


def test_over_limit(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(attachments=(_docx("字" * 4001),)))
    params = [
        (f.params["count"], f.params["limit"], f.params["excess"], f.params["filename"]) for f in findings
    ]
    assert params == [(4001, 4000, 1, "详细材料.docx")]


def test_at_limit_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission(attachments=(_docx("字" * 4000),))) == []


def test_unreadable_is_left_to_its_own_rule(make_submission: Callable[..., Submission], check: Check) -> None:
    attachments = (_docx(None, WordProblem.ENCRYPTED), _docx("字" * 9000, WordProblem.TOO_LARGE))
    assert check(rule, make_submission(attachments=attachments)) == []


def test_limit_and_mode_from_settings(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = make_submission(attachments=(_docx("GDP " * 60),))
    word = make_context(settings=RulesSettings(attachment_max_zi=100))
    chars = make_context(settings=RulesSettings(attachment_max_zi=100, counting=CountMode.CHARS))
    assert check(rule, submission, word) == []
    assert [f.params["count"] for f in check(rule, submission, chars)] == [180]


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
