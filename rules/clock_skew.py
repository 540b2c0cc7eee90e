"""clock-skew: the Date header is within the configured minutes of the time the message arrived."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context
from rules.messages import duration_text

_FIX_CLOCK = (
    "报送信息的计算机时间要调试准确，请校准发件计算机的日期、时间和时区（北京时间），"
    "避免收不到信息或信息遗漏。"
)


class ClockSkew:
    name: ClassVar[str] = "clock-skew"
    description: ClassVar[str] = "the Date header is within 15 minutes of arrival (计算机时间要调试准确)"
    severity: ClassVar[Severity] = Severity.WARN
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "missing": "邮件没有有效的发送时间（Date）。" + _FIX_CLOCK,
        "skew": "邮件的发送时间比收到时间{direction_text} {duration}，超过了 {limit_text}，"
        "发件计算机的时钟偏{direction_zh}。" + _FIX_CLOCK,
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        if submission.date is None:
            yield Finding(self.name, self.severity, "missing")
            return
        limit = context.settings.clock_skew_minutes
        difference = _aware(submission.date) - _aware(context.received_at)
        minutes = abs(difference.total_seconds()) / 60
        if minutes <= limit:
            return
        fast = difference.total_seconds() > 0
        params = {
            "minutes": math.ceil(minutes),
            "duration": duration_text(difference),
            "limit": limit,
            "limit_text": duration_text(dt.timedelta(minutes=limit)),
            "direction": "fast" if fast else "slow",
            "direction_text": "晚" if fast else "早",
            "direction_zh": "快" if fast else "慢",
        }
        yield Finding(self.name, self.severity, "skew", params)


def _aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a time zone; a naive time is taken as UTC rather than refused."""
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=dt.UTC)


rule = ClockSkew()
