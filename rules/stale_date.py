"""stale-date: the 落款 date is not after the day of arrival and not more than the configured days old."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class StaleDate:
    name: ClassVar[str] = "stale-date"
    description: ClassVar[str] = "the 落款 date is not in the future and not more than 7 days old"
    severity: ClassVar[Severity] = Severity.WARN
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "future": "落款日期 {date} 晚于收到日期 {received}。"
        "请核对落款日期和计算机日期，今后按实际报送日期落款。",
        "stale": "落款日期 {date} 比收到日期 {received} 早 {days} 天，超过 {limit} 天。"
        "请核对落款日期；信息要及时报送，今后按实际报送日期落款。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        signature = submission.parts.signature
        if signature is None or signature.date is None:
            return
        received = _local_day(context.received_at, context.settings.timezone)
        days = (received - signature.date).days
        params = {"date": _chinese(signature.date), "received": _chinese(received), "days": abs(days)}
        if days < 0:
            yield Finding(self.name, self.severity, "future", params)
        elif days > context.settings.stale_days:
            yield Finding(self.name, self.severity, "stale", params | {"limit": context.settings.stale_days})


def _local_day(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of ``moment`` in the units' time zone (its own offset if the zone is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError, OverflowError):
        return moment.date()


def _chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


rule = StaleDate()
