"""revision-orphan: a 【修改稿】 with nothing on file to revise is accepted with a warning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailgate.mail.folding import fold
from mailgate.mail.model import Submission
from rules import Context, Finding, History, PriorItem, Severity
from rules.revision_orphan import rule

RULE_ID = "revision-orphan"
Check = Callable[..., list[Finding]]
ON_FILE = PriorItem("2004-0001", "天河区软件产业园区建设成效明显", "天河区", "title")


def test_orphan_revision_warns(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(subject={"revision": True}))
    assert [(f.params["title"], f.params["identifier"]) for f in findings] == [
        ("天河区软件产业园区建设成效明显", "天河区")
    ]
    assert findings[0].severity is Severity.WARN


def test_revision_with_prior_item_passes(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    context = make_context(history=History(prior_item=ON_FILE))
    assert check(rule, make_submission(subject={"revision": True}), context) == []


def test_plain_item_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []


def test_eml(
    eml: Path, parse: Callable[[Path], Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = parse(eml)
    prior = ON_FILE if fold(submission.subject.title) == fold(ON_FILE.title) else None
    findings = check(rule, submission, make_context(history=History(prior_item=prior)))
    assert bool(findings) == eml.name.startswith("hit"), findings
