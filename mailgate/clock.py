"""The one clock business decisions read: the system's in production, a frozen one in tests."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Where "now" comes from (in the spirit of Mailman's DateFactory)."""

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that stands still until it is moved: tests date everything relative to it."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen clock needs a timezone-aware moment")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        """Jump to ``at``."""
        if at.tzinfo is None:
            raise ValueError("a frozen clock needs a timezone-aware moment")
        self._at = at.astimezone(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        """Move forward (or, with a negative ``delta``, back) by ``delta``."""
        self._at += delta

    def __repr__(self) -> str:
        return f"FrozenClock({self._at.isoformat()})"


#: The clock of a running mailgate; commands build their parts with it unless a test passes another.
SYSTEM_CLOCK: Clock = SystemClock()
