"""clock-skew: the sender's clock is within the configured minutes of ours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.config import RulesSettings
from mailgate.mail.model import Submission
from rules import Context, Finding, Severity
from rules.clock_skew import rule

RULE_ID = "clock-skew"
Check = Callable[..., list[Finding]]
RECEIVED_AT = dt.datetime(2004, 1, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # make_context's


@pytest.mark.parametrize(
    ("offset", "minutes", "direction"),
    [
        (dt.timedelta(minutes=40), 40, "fast"),
        (dt.timedelta(minutes=-15, seconds=-1), 16, "slow"),
        (dt.timedelta(days=-366), 527_040, "slow"),
    ],
)
def test_skew(
    offset: dt.timedelta,
    minutes: int,
    direction: str,
    make_submission: Callable[..., Submission],
    check: Check,
) -> None:
    findings = check(rule, make_submission(date=RECEIVED_AT + offset))
    assert [(f.reason, f.params["minutes"], f.params["direction"]) for f in findings] == [
        ("skew", minutes, direction)
    ]
    assert findings[0].severity is Severity.WARN


@pytest.mark.parametrize("offset", [dt.timedelta(0), dt.timedelta(minutes=15), dt.timedelta(minutes=-15)])
def test_within_limit(offset: dt.timedelta, make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission(date=RECEIVED_AT + offset)) == []


def test_same_instant_in_another_zone_passes(
    make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, make_submission(date=RECEIVED_AT.astimezone(dt.UTC))) == []


def test_naive_date_does_not_raise(make_submission: Callable[..., Submission], check: Check) -> None:
    naive = RECEIVED_AT.replace(tzinfo=None)  # read as UTC: eight hours fast
    assert [f.params["minutes"] for f in check(rule, make_submission(date=naive))] == [480]


def test_missing_date(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    assert make_context().received_at == RECEIVED_AT
    assert [f.reason for f in check(rule, make_submission(date=None))] == ["missing"]


def test_limit_from_settings(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = make_submission(date=RECEIVED_AT + dt.timedelta(minutes=3))
    assert len(check(rule, submission, make_context(settings=RulesSettings(clock_skew_minutes=2)))) == 1


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
