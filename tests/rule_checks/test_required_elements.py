"""required-elements: the seven elements, a readable phone and a readable date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailgate.mail.model import Submission
from rules import Finding
from rules.required_elements import rule

RULE_ID = "required-elements"
Check = Callable[..., list[Finding]]


def test_complete_item_passes(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission()) == []


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"subject": {"identifier": None}}, "标识"),
        ({"subject": {"title": ""}}, "标题"),
        ({"parts": {"title": None}}, "标题"),
        ({"parts": {"main": " \n　"}}, "正文"),
        ({"parts": {"signature": {"unit": None}}}, "作者单位"),
        ({"parts": {"signature": {"name": " "}}}, "姓名"),
        ({"parts": {"signature": {"phone": None}}}, "联系电话"),
        ({"parts": {"signature": {"date": None, "date_text": None}}}, "日期"),
    ],
)
def test_each_missing_element(
    overrides: dict[str, Any], missing: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, make_submission(**overrides))
    assert [(f.reason, f.params["missing"]) for f in findings] == [("missing", missing)]


def test_no_signature_lists_all_four_in_order(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, make_submission(subject={"identifier": None}, parts={"signature": None}))
    assert findings[0].params["missing"] == "标识、作者单位、姓名、联系电话、日期"
    assert findings[0].params["elements"] == ("标识", "作者单位", "姓名", "联系电话", "日期")
    assert len(findings) == 1


def test_bad_phone(make_submission: Callable[..., Submission], check: Check) -> None:
    submission = make_submission(parts={"signature": {"phone": "3862", "phone_valid": False}})
    findings = check(rule, submission)
    assert [(f.reason, f.params["phone"]) for f in findings] == [("bad_phone", "3862")]


def test_bad_date(make_submission: Callable[..., Submission], check: Check) -> None:
    submission = make_submission(parts={"signature": {"date": None, "date_text": "2004年2月30日"}})
    findings = check(rule, submission)
    assert [(f.reason, f.params["date_text"]) for f in findings] == [("bad_date", "2004年2月30日")]


def test_all_problems_reported_together(make_submission: Callable[..., Submission], check: Check) -> None:
    signature = {"name": None, "phone": "12", "phone_valid": False, "date": None, "date_text": "昨天"}
    findings = check(rule, make_submission(parts={"signature": signature}))
    assert [f.reason for f in findings] == ["missing", "bad_phone", "bad_date"]


def test_parsed_date_counts_even_without_text(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(parts={"signature": {"date": dt.date(2004, 1, 8), "date_text": None}})
    assert check(rule, submission) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
