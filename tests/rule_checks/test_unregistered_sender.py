"""unregistered-sender: only active registered officers may submit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Submission
from rules import Finding
from rules.unregistered_sender import rule

RULE_ID = "unregistered-sender"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize("address", ["xxy@th.gz.gov.cn", "info@yuexiu.gov.cn", "rjy@thsp.gov.cn"])
def test_registered_officers_pass(
    address: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(from_address=address)) == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [("zhangsan@163.com", "unknown"), ("old@th.gz.gov.cn", "inactive"), (None, "missing")],
)
def test_others_are_refused(
    address: str | None, reason: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, make_submission(from_address=address))
    assert [f.reason for f in findings] == [reason]
    assert findings[0].params["address"] == (address or "")


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
