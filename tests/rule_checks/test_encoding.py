"""encoding: each encoding problem the parser found becomes a finding naming the part in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import EncodingIssue, EncodingProblem, Submission
from rules import Finding
from rules.encoding import rule

RULE_ID = "encoding"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize("problem", list(EncodingProblem))
def test_every_problem_has_a_message(
    problem: EncodingProblem, make_submission: Callable[..., Submission], check: Check
) -> None:
    issue = EncodingIssue("body", problem, "x-unknown")
    findings = check(rule, make_submission(encoding_issues=(issue,)))
    assert [(f.reason, f.params["part"]) for f in findings] == [(problem.value, "正文")]
    assert "编码" in rule.messages[problem.value]


def test_one_finding_per_issue(make_submission: Callable[..., Submission], check: Check) -> None:
    issues = (
        EncodingIssue("subject", EncodingProblem.UNDECLARED_8BIT),
        EncodingIssue("from", EncodingProblem.MOJIBAKE),
    )
    findings = check(rule, make_submission(encoding_issues=issues))
    assert [f.params["part"] for f in findings] == ["主题", "发件人"]
    assert rule.final


def test_clean_message_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
