"""duplicate: a message the store has already seen is not answered again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from mailgate.mail.model import Submission
from rules import Context, Finding, History, Severity
from rules.duplicate import rule

RULE_ID = "duplicate"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize("seen_by", ["message-id", "content-hash"])
def test_seen_message_is_ignored(
    seen_by: str,
    make_submission: Callable[..., Submission],
    make_context: Callable[..., Context],
    check: Check,
) -> None:
    context = make_context(history=History(seen_by=seen_by))  # type: ignore[arg-type]
    findings = check(rule, make_submission(), context)
    assert len(findings) == 1
    assert findings[0].params["by"] == seen_by
    assert findings[0].severity is Severity.IGNORE


def test_new_message_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []


ORIGINALS = ("miss_original.eml", "miss_original_no_id.eml")


def test_eml(
    eml: Path, parse: Callable[[Path], Submission], make_context: Callable[..., Context], check: Check
) -> None:
    """The store already holds the two originals; later copies are recognised by Message-ID or content."""
    stored = [parse(eml.parent / name) for name in ORIGINALS if name != eml.name]
    submission = parse(eml)
    seen_by: Literal["message-id", "content-hash"] | None = None
    if submission.message_id is not None and submission.message_id in {s.message_id for s in stored}:
        seen_by = "message-id"
    elif submission.message_id is None and submission.content_hash in {s.content_hash for s in stored}:
        seen_by = "content-hash"
    findings = check(rule, submission, make_context(history=History(seen_by=seen_by)))
    assert bool(findings) == eml.name.startswith("hit"), findings
