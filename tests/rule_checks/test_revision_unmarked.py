"""revision-unmarked and its store simulation: a second item with a title on file needs 【修改稿】."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailgate.mail.folding import fold
from mailgate.mail.model import Submission
from rules import Context, Finding, History, PriorItem
from rules.revision_unmarked import rule

RULE_ID = "revision-unmarked"
Check = Callable[..., list[Finding]]
ON_FILE = PriorItem("2004-0001", "天河区软件产业园区建设成效明显", "天河区", "title")
#: Message-ID of the receipt mailgate sent for ON_FILE; a reply to it revises that item.
RECEIPT_ID = "receipt.2004-0001@mailgate.gzy.gov.cn"


def prior_item_for(submission: Submission) -> PriorItem | None:
    """What the store would find: the item whose receipt this answers, else the same title."""
    if submission.in_reply_to == RECEIPT_ID:
        return PriorItem(ON_FILE.tracking, ON_FILE.title, ON_FILE.unit, "in-reply-to")
    return ON_FILE if fold(submission.subject.title) == fold(ON_FILE.title) else None


def test_unmarked_second_item(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    findings = check(rule, make_submission(), make_context(history=History(prior_item=ON_FILE)))
    assert [(f.params["tracking"], f.params["title"]) for f in findings] == [("2004-0001", ON_FILE.title)]
    assert "【修改稿】" in rule.messages["default"]


def test_marked_revision_passes(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    context = make_context(history=History(prior_item=ON_FILE))
    assert check(rule, make_submission(subject={"revision": True}), context) == []


def test_new_item_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []


def test_eml(
    eml: Path, parse: Callable[[Path], Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = parse(eml)
    context = make_context(history=History(prior_item=prior_item_for(submission)))
    findings = check(rule, submission, context)
    assert bool(findings) == eml.name.startswith("hit"), findings
