"""size-limit: messages over the configured size are refused, with the sizes in MB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailgate.config import RulesSettings
from mailgate.mail.model import Submission
from mailgate.mail.parse import parse_message
from rules import Context, Finding
from rules.size_limit import rule

RULE_ID = "size-limit"
Check = Callable[..., list[Finding]]
MB = 1024 * 1024


def test_over_limit(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(raw_size=25 * MB + 1))
    assert len(findings) == 1
    assert findings[0].params["size_mb"] == "25.1"  # rounded up: never shown as equal to the limit
    assert findings[0].params["limit_mb"] == "25.0"
    assert rule.final


def test_truncated_is_refused_whatever_the_size(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    assert len(check(rule, make_submission(truncated=True))) == 1


def test_at_limit_passes(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    context = make_context(settings=RulesSettings(max_message_bytes=10 * MB))
    assert check(rule, make_submission(raw_size=10 * MB), context) == []
    findings = check(rule, make_submission(raw_size=10 * MB + 300_000), context)
    assert [f.params["size_mb"] for f in findings] == ["10.3"]


def test_eml(eml: Path, make_context: Callable[..., Context], check: Check) -> None:
    """The fixtures are judged against a 40 000-byte limit, as the parser is told to enforce it."""
    settings = RulesSettings(max_message_bytes=40_000)
    submission = parse_message(eml.read_bytes(), max_size=settings.max_message_bytes)
    findings = check(rule, submission, make_context(settings=settings))
    assert bool(findings) == eml.name.startswith("hit"), findings
