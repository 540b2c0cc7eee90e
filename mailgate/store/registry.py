"""The registry and the commissions in the database: loaded by the daemon, replaced by imports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from mailgate.errors import StoreError
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


async def add_commission(store: Store, code: str, topic: str, deadline: dt.datetime) -> None:
    """Record a commission (约稿); its code must be new."""
    async with store.transaction() as repo:
        if await repo.session.get(Commission, code) is not None:
            raise StoreError(f"commission {code!r} already exists")
        repo.session.add(
            Commission(code=code, topic=topic, deadline=deadline, created_at=dt.datetime.now(dt.UTC))
        )


async def commissions(store: Store) -> list[Commission]:
    async with store.transaction() as repo:
        return list(await repo.session.scalars(select(Commission).order_by(Commission.deadline)))
