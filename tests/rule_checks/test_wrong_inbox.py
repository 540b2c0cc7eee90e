"""wrong-inbox: 【约稿】 items belong in the commissioned inbox and nothing else does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Submission
from rules import Context, Finding, Inbox
from rules.wrong_inbox import rule

RULE_ID = "wrong-inbox"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("commissioned", "inbox", "reason"),
    [
        (True, Inbox.DAILY, "commissioned_to_daily"),
        (False, Inbox.COMMISSIONED, "daily_to_commissioned"),
        (True, Inbox.COMMISSIONED, None),
        (False, Inbox.DAILY, None),
    ],
)
def test_inbox_matches_subject(
    commissioned: bool,
    inbox: Inbox,
    reason: str | None,
    make_submission: Callable[..., Submission],
    make_context: Callable[..., Context],
    check: Check,
) -> None:
    submission = make_submission(subject={"commissioned": commissioned})
    findings = check(rule, submission, make_context(inbox=inbox))
    assert [f.reason for f in findings] == ([reason] if reason else [])


def test_eml(
    eml: Path, parse: Callable[[Path], Submission], make_context: Callable[..., Context], check: Check
) -> None:
    """Each fixture is judged in the inbox its To header names (sfxx@ is the commissioned one)."""
    submission = parse(eml)
    inbox = Inbox.COMMISSIONED if "sfxx@" in (submission.header("to") or "") else Inbox.DAILY
    findings = check(rule, submission, make_context(inbox=inbox))
    assert bool(findings) == eml.name.startswith("hit"), findings
