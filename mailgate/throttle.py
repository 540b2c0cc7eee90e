"""When a reply may go: the age limit, the officers' hourly limit, the strangers' daily notice and ceiling."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from dataclasses import dataclass
from email.utils import parseaddr

from mailgate.config import ReplySettings
from mailgate.store import Repository


class Audience(enum.StrEnum):
    """Who a reply goes to: limits differ for registered officers and for strangers."""

    OFFICER = "officer"  # a registered, active information officer
    STRANGER = "stranger"  # anyone else: often a forged From address


class HeldBack(enum.StrEnum):
    """Why a reply is kept in the outbox and never sent (``outbox.reason``)."""

    TOO_OLD = "too_old"  # the mail arrived longer ago than replies.max_age_hours
    RATE_LIMIT = "rate_limit"  # the officer's hourly limit is used up
    STRANGER_DAILY = "stranger_daily"  # this stranger had today's one notice already
    STRANGERS_OFF = "strangers_off"  # replies.strangers = "none"
    UNDELIVERABLE = "undeliverable"  # no reply could be built for that address


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a reply goes (``held_back`` is None) and when it is due."""

    held_back: HeldBack | None
    due_at: dt.datetime


def recipient_key(address: str) -> str:
    """One key per mailbox: ``"Victim"@X.cn`` and ``victim@x.cn`` are the same recipient."""
    _, spec = parseaddr(address)
    spec = spec or address
    local, at, domain = spec.rpartition("@")
    if not at:
        return spec.strip().casefold()
    local = local.strip()
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = local[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    domain = domain.strip().rstrip(".").casefold()
    with contextlib.suppress(UnicodeError):  # 广州.cn and xn--... are one domain
        domain = domain.encode("idna").decode("ascii")
    return f"{local.casefold()}@{domain}"


class Throttle:
    """Decides, against what the outbox already holds, whether and when a reply may go."""

    def __init__(self, settings: ReplySettings, zone: dt.tzinfo) -> None:
        self.settings = settings
        self.zone = zone

    async def decide(
        self,
        repo: Repository,
        *,
        kind: str,
        key: str,
        audience: Audience,
        arrival: dt.datetime,
        now: dt.datetime,
        answer_old: bool,
    ) -> Decision:
        """Whether a reply of ``kind`` to the mailbox ``key`` may go, and when.

        Each kind is counted apart, so forged mail in an officer's name, however much of it, never
        holds back that officer's real receipts. Strangers get one reply of a kind a day, and all
        replies to strangers together stay under the hourly ceiling."""
        settings = self.settings
        if not answer_old and now - arrival > dt.timedelta(hours=settings.max_age_hours):
            return Decision(HeldBack.TOO_OLD, now)
        if audience is Audience.OFFICER:
            sent = await repo.replies_since(key, now - dt.timedelta(hours=1), audience.value, kind)
            held = HeldBack.RATE_LIMIT if sent >= settings.per_address_per_hour else None
            return Decision(held, now)
        if settings.strangers == "none":
            return Decision(HeldBack.STRANGERS_OFF, now)
        if await repo.replies_since(key, self._start_of_day(now), audience.value, kind) >= 1:
            return Decision(HeldBack.STRANGER_DAILY, now)
        return Decision(None, await self._slot(repo, now))

    async def _slot(self, repo: Repository, now: dt.datetime) -> dt.datetime:
        """The earliest moment a reply to a stranger may be due without putting more than
        ``strangers_per_hour`` into any hour: past the ceiling they wait, they are not dropped."""
        ceiling = self.settings.strangers_per_hour
        hour = dt.timedelta(hours=1)
        latest = await repo.latest_due(Audience.STRANGER.value, now - hour, ceiling)
        if len(latest) < ceiling:
            return now
        return max(now, latest[-1] + hour)

    def _start_of_day(self, now: dt.datetime) -> dt.datetime:
        """Midnight of ``now``'s calendar day in the units' zone."""
        local = now.astimezone(self.zone)
        return dt.datetime.combine(local.date(), dt.time(), self.zone)
