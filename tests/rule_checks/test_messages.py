"""Rendering findings: durations as people say them, and sender text quoted short and without links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from mailgate.mail.model import Submission
from rules import Finding, Severity, default_rules, duration_text, render
from rules.clock_skew import rule as clock_skew

RULES = default_rules()
RECEIVED_AT = dt.datetime(2004, 1, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # make_context's


@pytest.mark.parametrize(
    ("delta", "simplified", "traditional"),
    [
        (dt.timedelta(0), "0 分钟", "0 分鐘"),
        (dt.timedelta(minutes=59), "59 分钟", "59 分鐘"),
        (dt.timedelta(hours=1), "1 小时", "1 小時"),
        (dt.timedelta(hours=3, minutes=20), "3 小时 20 分钟", "3 小時 20 分鐘"),
        (dt.timedelta(days=1), "1 天", "1 天"),
        (dt.timedelta(days=5, hours=17), "5 天 17 小时", "5 天 17 小時"),
        (dt.timedelta(days=5, hours=17, minutes=59), "5 天 17 小时", "5 天 17 小時"),  # no minutes after days
        (dt.timedelta(days=2, minutes=30), "2 天", "2 天"),
        (dt.timedelta(minutes=15, seconds=1), "16 分钟", "16 分鐘"),  # rounded up, beyond a 15-minute limit
        (dt.timedelta(minutes=-200), "3 小时 20 分钟", "3 小時 20 分鐘"),  # the sign is the sentence's
        (dt.timedelta(days=366), "366 天", "366 天"),
    ],
)
def test_duration_text(delta: dt.timedelta, simplified: str, traditional: str) -> None:
    assert duration_text(delta) == simplified
    assert duration_text(delta, traditional=True) == traditional


@pytest.mark.parametrize(
    ("offset", "simplified", "traditional"),
    [
        (
            -dt.timedelta(days=5, hours=17, minutes=11),
            "比收到时间早 5 天 17 小时，超过了 15 分钟",
            "比收到時間早 5 天 17 小時，超過了 15 分鐘",
        ),
        (dt.timedelta(hours=3, minutes=20), "比收到时间晚 3 小时 20 分钟", "比收到時間晚 3 小時 20 分鐘"),
        (-dt.timedelta(minutes=40), "比收到时间早 40 分钟", "比收到時間早 40 分鐘"),
    ],
)
def test_clock_skew_states_the_duration(
    offset: dt.timedelta,
    simplified: str,
    traditional: str,
    make_submission: Callable[..., Submission],
    check: Callable[..., list[Finding]],
) -> None:
    [finding] = check(clock_skew, make_submission(date=RECEIVED_AT + offset))
    assert simplified in render(finding, RULES)
    assert traditional in render(finding, RULES, traditional=True)
    assert "8211" not in render(finding, RULES)
    assert finding.params["minutes"] == round(abs(offset.total_seconds()) / 60)  # still there for JSON


def test_an_override_may_still_use_minutes(
    make_submission: Callable[..., Submission], check: Callable[..., list[Finding]]
) -> None:
    [finding] = check(clock_skew, make_submission(date=RECEIVED_AT - dt.timedelta(minutes=8211)))
    overrides = {"clock-skew": "慢了 {minutes} 分钟（{duration}）"}
    assert render(finding, RULES, overrides=overrides) == "慢了 8211 分钟（5 天 16 小时）"


def test_quoted_sender_text_is_short_and_has_no_links() -> None:
    title = "关于" * 50 + " 详见 http://evil.example.cn/x"
    finding = Finding(
        "subject-title", Severity.REJECT, "default", {"subject_title": title, "body_title": title}
    )
    text = render(finding, RULES)
    assert "http" not in text
    assert "evil" not in text
    assert ("关于" * 30)[:59] + "…" in text
    assert "关于" * 31 not in text


def test_params_are_reported_as_they_are() -> None:
    """Only the rendered message is shortened: the finding keeps the full text for logs and JSON."""
    title = "关于" * 50
    finding = Finding(
        "subject-title", Severity.REJECT, "default", {"subject_title": title, "body_title": title}
    )
    render(finding, RULES)
    assert finding.params["subject_title"] == title


def test_an_address_in_a_message_is_not_taken_for_a_link() -> None:
    finding = Finding("unregistered-sender", Severity.REJECT, "unknown", {"address": "xxy@th.gz.gov.cn"})
    assert "xxy@th.gz.gov.cn" in render(finding, RULES)
