"""sender-name: the display name shows the officer's unit by identifier, name or alias, folded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.mail.model import Submission
from rules import Finding
from rules.sender_name import rule

RULE_ID = "sender-name"
Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("address", "display"),
    [
        ("xxy@th.gz.gov.cn", "天河区人民政府办公室"),
        ("xxy@th.gz.gov.cn", "天河區政府辦 張三"),  # Traditional alias
        ("xxy@th.gz.gov.cn", "【天河区】信息科"),  # the identifier inside other text
        ("info@yuexiu.gov.cn", "越秀区人民政府办公室"),  # Simplified for a Traditional registration
        ("fgw@gz.gov.cn", "市发改委 李四"),
        ("rjy@thsp.gov.cn", "天河软件园管理委员会"),
    ],
)
def test_unit_shown(
    address: str, display: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(from_address=address, from_name=display)) == []


@pytest.mark.parametrize(("display", "reason"), [("张三", "default"), ("xxy", "default"), ("", "missing")])
def test_unit_not_shown(
    display: str, reason: str, make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, make_submission(from_name=display))
    assert [f.reason for f in findings] == [reason]
    assert findings[0].params["unit_name"] == "天河区人民政府办公室"


def test_parent_name_is_not_the_direct_points_name(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    submission = make_submission(from_address="rjy@thsp.gov.cn", from_name="天河区人民政府办公室")
    assert [f.params["unit_id"] for f in check(rule, submission)] == ["天河软件园"]


def test_unknown_sender_is_left_to_unregistered_sender(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(from_address="someone@163.com", from_name="")) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
