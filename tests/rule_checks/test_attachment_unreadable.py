"""attachment-unreadable: an encrypted, corrupt or oversized Word document is refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Attachment, Submission, WordKind, WordProblem, WordText
from rules import Finding
from rules.attachment_unreadable import rule

RULE_ID = "attachment-unreadable"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize("problem", list(WordProblem))
def test_each_problem(problem: WordProblem, make_submission: Callable[..., Submission], check: Check) -> None:
    word = WordText(WordKind.DOC, None, problem)
    attachments = (Attachment("材料.doc", "application/msword", 40_000, word),)
    findings = check(rule, make_submission(attachments=attachments))
    assert [(f.reason, f.params["filename"]) for f in findings] == [(problem.value, "材料.doc")]


def test_readable_and_non_word_pass(make_submission: Callable[..., Submission], check: Check) -> None:
    attachments = (
        Attachment("材料.docx", "application/octet-stream", 9_000, WordText(WordKind.DOCX, "材料")),
        Attachment("a.pdf", "application/pdf", 9_000, None),
    )
    assert check(rule, make_submission(attachments=attachments)) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
