"""The registry and the commissions in the database: loaded by the daemon, replaced by imports."""

from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import delete, select

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.registry import Officer, Registry, Series, Unit
from mailgate.store.models import Commission, OfficerRow, UnitRow
from mailgate.store.store import Repository, Store


async def load_registry(store: Store) -> Registry:
    """The registry as the database holds it (a read-only snapshot: it never waits for the writer)."""
    async with store.reading() as repo:
        return await read_registry(repo)


async def read_registry(repo: Repository) -> Registry:
    """The registry as ``repo``'s transaction sees it."""
    units = list(await repo.session.scalars(select(UnitRow).order_by(UnitRow.id)))
    officers = list(await repo.session.scalars(select(OfficerRow).order_by(OfficerRow.email)))
    return Registry(
        [
            Unit(id=u.id, name=u.name, aliases=tuple(u.aliases), series=Series(u.series), parent=u.parent)
            for u in units
        ],
        [
            Officer(email=o.email, name=o.name, unit=o.unit, phone=o.phone, title=o.title, active=o.active)
            for o in officers
        ],
    )


async def replace_registry(store: Store, registry: Registry) -> None:
    """Make the database hold exactly ``registry`` (one transaction)."""
    async with store.transaction() as repo:
        await repo.session.execute(delete(OfficerRow))
        await repo.session.execute(delete(UnitRow))
        await repo.session.flush()
        repo.session.add_all(
            UnitRow(id=u.id, name=u.name, aliases=list(u.aliases), series=u.series.value, parent=u.parent)
            for u in registry.units.values()
        )
        await repo.session.flush()
        repo.session.add_all(
            OfficerRow(email=o.email, name=o.name, unit=o.unit, phone=o.phone, title=o.title, active=o.active)
            for o in registry.officers.values()
        )


#: The years (in UTC) a deadline may fall in: every database, and every time zone it is shown in, holds them.
DEADLINE_YEARS = range(1970, 9999)
#: The longest code the commissions table holds.
CODE_LENGTH = 64


class InvalidCommissionError(ValueError):
    """A commission the store does not record; ``field`` names its part at fault: code, topic or deadline."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateCommissionError(InvalidCommissionError):
    """A commission with this code exists already."""

    def __init__(self, code: str) -> None:
        super().__init__("code", f"commission {code!r} already exists")
        self.code = code


def check_commission(code: str, topic: str, deadline: dt.datetime) -> None:
    """Raise ``InvalidCommissionError`` unless every database can hold this commission as it is."""
    for name, value in (("code", code), ("topic", topic)):
        if not value.strip():
            raise InvalidCommissionError(name, f"the {name} is empty")
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            raise InvalidCommissionError(name, f"the {name} contains a control character")
    if len(code) > CODE_LENGTH:
        raise InvalidCommissionError("code", f"the code is longer than {CODE_LENGTH} characters")
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise InvalidCommissionError("deadline", "the deadline has no time zone")
    try:
        year = deadline.astimezone(dt.UTC).year
    except OverflowError:
        year = None
    if year not in DEADLINE_YEARS:
        raise InvalidCommissionError(
            "deadline", f"the deadline is not within the years {DEADLINE_YEARS[0]} to {DEADLINE_YEARS[-1]}"
        )


async def add_commission(
    store: Store, code: str, topic: str, deadline: dt.datetime, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Record a commission (约稿), dated by ``clock``; its code must be new (else
    ``DuplicateCommissionError``), and the rest valid (else ``InvalidCommissionError``)."""
    check_commission(code, topic, deadline)
    async with store.transaction() as repo:
        if await repo.session.get(Commission, code) is not None:
            raise DuplicateCommissionError(code)
        repo.session.add(Commission(code=code, topic=topic, deadline=deadline, created_at=clock.now()))


async def commissions(store: Store) -> list[Commission]:
    """Every commission, the earliest deadline first (a read-only snapshot)."""
    async with store.reading() as repo:
        return list(await repo.session.scalars(select(Commission).order_by(Commission.deadline)))
