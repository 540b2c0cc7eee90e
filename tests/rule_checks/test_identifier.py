"""identifier: the 【标识】 must name the sending officer's own unit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Submission
from rules import Finding
from rules.identifier import rule

RULE_ID = "identifier"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("address", "identifier"),
    [
        ("xxy@th.gz.gov.cn", "天河区"),
        ("xxy@th.gz.gov.cn", "天河區"),
        ("xxy@th.gz.gov.cn", "天河区政府办"),
        ("info@yuexiu.gov.cn", "越秀区"),
        ("fgw@gz.gov.cn", "市发改委"),
    ],
)
def test_own_unit_passes(
    address: str, identifier: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(from_address=address, subject={"identifier": identifier})
    assert check(rule, submission) == []


def test_other_unit(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(subject={"identifier": "越秀区"}))
    assert [f.reason for f in findings] == ["other_unit"]
    assert findings[0].params["expected"] == "天河区"
    assert findings[0].params["named_unit"] == "越秀區人民政府辦公室"


def test_direct_point_must_use_its_own_identifier(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(from_address="rjy@thsp.gov.cn", subject={"identifier": "天河区"})
    assert [f.params["expected"] for f in check(rule, submission)] == ["天河软件园"]


def test_unknown_identifier(make_submission: Callable[..., Submission], check: Check) -> None:
    findings = check(rule, make_submission(subject={"identifier": "天河局"}))
    assert [(f.reason, f.params["identifier"]) for f in findings] == [("unknown", "天河局")]


@pytest.mark.parametrize("overrides", [{"subject": {"identifier": None}}, {"from_address": "x@163.com"}])
def test_left_to_other_rules(
    overrides: dict[str, object], make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(**overrides)) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
