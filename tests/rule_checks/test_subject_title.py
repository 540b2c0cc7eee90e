"""subject-title: subject and body titles agree after folding width, script, spaces and punctuation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Submission
from rules import Finding
from rules.subject_title import rule

RULE_ID = "subject-title"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("subject_title", "body_title"),
    [
        ("天河区软件产业园区建设成效明显", "天河区软件产业园区建设成效明显"),
        ("天河區軟件產業園區建設成效明顯", "天河区软件产业园区建设成效明显"),
        ("天河区 GDP 增长 12%", "天河区ＧＤＰ增长１２％"),
        ("越秀区：老城区改造启动", "越秀区老城区改造启动。"),
    ],
)
def test_same_title_passes(
    subject_title: str, body_title: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(subject={"title": subject_title}, parts={"title": body_title})
    assert check(rule, submission) == []


def test_different_titles(make_submission: Callable[..., Submission], check: Check) -> None:
    submission = make_submission(subject={"title": "天河区软件园建设"}, parts={"title": "天河区软件产业园区"})
    findings = check(rule, submission)
    assert [(f.params["subject_title"], f.params["body_title"]) for f in findings] == [
        ("天河区软件园建设", "天河区软件产业园区")
    ]


@pytest.mark.parametrize(("subject_title", "body_title"), [("", "标题"), ("标题", None), ("标题", "  ")])
def test_missing_title_is_left_to_required_elements(
    subject_title: str, body_title: str | None, make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(subject={"title": subject_title}, parts={"title": body_title})
    assert check(rule, submission) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
