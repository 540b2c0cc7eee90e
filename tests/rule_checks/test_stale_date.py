"""stale-date: the 落款 date is neither after the day of arrival nor too old, in the units' time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.config import RulesSettings
from mailgate.mail.model import Submission
from rules import Context, Finding
from rules.stale_date import rule

RULE_ID = "stale-date"
Check = Callable[..., list[Finding]]


def _dated(make_submission: Callable[..., Submission], day: dt.date | None) -> Submission:
    return make_submission(parts={"signature": {"date": day}})


@pytest.mark.parametrize(
    ("day", "reason", "days"),
    [
        (dt.date(2004, 1, 9), "future", 1),
        (dt.date(2003, 12, 31), "stale", 8),
        (dt.date(1904, 1, 8), "stale", 36525),
    ],
)
def test_out_of_range(
    day: dt.date, reason: str, days: int, make_submission: Callable[..., Submission], check: Check
) -> None:
    findings = check(rule, _dated(make_submission, day))
    assert [(f.reason, f.params["days"]) for f in findings] == [(reason, days)]
    assert findings[0].params["received"] == "2004年1月8日"


@pytest.mark.parametrize("day", [dt.date(2004, 1, 8), dt.date(2004, 1, 1), None])
def test_in_range_or_absent(
    day: dt.date | None, make_submission: Callable[..., Submission], check: Check
) -> None:
    assert check(rule, _dated(make_submission, day)) == []


def test_no_signature(make_submission: Callable[..., Submission], check: Check) -> None:
    assert check(rule, make_submission(parts={"signature": None})) == []


def test_day_is_taken_in_the_units_time_zone(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    """00:30 in Guangzhou is still the previous day in UTC: a 落款 dated today is not in the future."""
    received = dt.datetime(2004, 1, 7, 16, 30, tzinfo=dt.UTC)
    submission = _dated(make_submission, dt.date(2004, 1, 8))
    assert check(rule, submission, make_context(received_at=received)) == []
    london = make_context(received_at=received, settings=RulesSettings(timezone="Europe/London"))
    assert [f.reason for f in check(rule, submission, london)] == ["future"]


def test_unknown_time_zone_does_not_raise(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    context = make_context(settings=RulesSettings(timezone="Mars/Olympus_Mons"))
    assert check(rule, _dated(make_submission, dt.date(2004, 1, 8)), context) == []


def test_eml(eml: Path, parse: Callable[[Path], Submission], check: Check) -> None:
    findings = check(rule, parse(eml))
    assert bool(findings) == eml.name.startswith("hit"), findings
