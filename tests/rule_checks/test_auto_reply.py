"""auto-reply: machine-sent mail is recognised by its headers and gets no answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.config import RulesSettings
from mailgate.mail.model import Submission
from rules import Context, Finding, Severity
from rules.auto_reply import rule

RULE_ID = "auto-reply"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([("auto-submitted", "auto-replied")], "auto_submitted"),
        ([("auto-submitted", "Auto-Generated; owner-email=x@y")], "auto_submitted"),
        ([("precedence", "bulk")], "precedence"),
        ([("precedence", " Junk ")], "precedence"),
        ([("precedence", "auto_reply")], "precedence"),
        ([("list-id", "<news.gz.gov.cn>")], "list"),
        ([("list-unsubscribe", "<mailto:leave@gz.gov.cn>")], "list"),
        ([("x-loop", "mailgate")], "loop"),
        ([("x-autoreply", "yes")], "autoreply_header"),
        ([("x-autorespond", "")], "autoreply_header"),
        ([("content-type", 'multipart/report; report-type="delivery-status"')], "report"),
    ],
)
def test_machine_headers_are_ignored(
    headers: list[tuple[str, str]], reason: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, make_submission(headers=tuple(headers)))
    assert [f.reason for f in findings] == [reason]
    assert findings[0].severity is Severity.IGNORE


def test_null_return_path(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(return_path=""))
    assert [f.reason for f in findings] == ["null_return_path"]


@pytest.mark.parametrize("address", ["MAILER-DAEMON@mx.gzy.gov.cn", "postmaster@th.gz.gov.cn"])
def test_daemon_senders(address: str, make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(from_address=address.lower()))
    assert [f.reason for f in findings] == ["mailer_daemon"]


def test_loop_marker_comes_from_settings(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = make_submission(headers=(("x-loop", "gz-notices"),))
    assert check(rule, submission) == []
    context = make_context(settings=RulesSettings(loop_marker="gz-notices"))
    assert [f.reason for f in check(rule, submission, context)] == ["loop"]


@pytest.mark.parametrize(
    "headers",
    [
        [("auto-submitted", "no")],
        [("precedence", "first-class")],
        [("x-auto-response-suppress", "All")],  # Outlook sets this on ordinary mail
        [("content-type", "multipart/mixed; boundary=x")],
        [("x-loop", "someone-else")],
    ],
)
def test_ordinary_mail_is_not_ignored(
    headers: list[tuple[str, str]], make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(headers=tuple(headers))) == []


def test_missing_return_path_and_sender_are_not_signals(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(return_path=None, from_address=None)) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
