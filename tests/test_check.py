"""`check_files` and the registry it judges senders against, in process: the clock and the choices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from messages import FIXTURE_TIME, REGISTRY, submission

from mailgate.check import RegistryChoice, check_files, choose_registry, rules_for
from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.registry import load_registry
from mailgate.store import Store
from mailgate.store.registry import replace_registry
from rules import Inbox


def _without_received(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    kept = [line for line in head.split(newline) if not line.lower().startswith(b"received:")]
    return newline.join(kept) + newline * 2 + body


async def _rules_found(path: Path, choice: RegistryChoice, clock: FrozenClock) -> set[str]:
    results = [
        result
        async for result in check_files(
            [path], settings=Settings(), registry=choice, inbox=Inbox.DAILY, received_at=None, clock=clock
        )
    ]
    assert len(results) == 1
    return {f["rule"] for f in results[0].findings}


async def test_without_an_arrival_time_check_reads_its_clock(tmp_path: Path) -> None:
    path = tmp_path / "1.eml"
    raw = _without_received(submission(1, at=FIXTURE_TIME))
    assert b"received:" not in raw.lower()
    path.write_bytes(raw)
    registry = tmp_path / "registry.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    choice = RegistryChoice(load_registry(registry), "file", str(registry))
    assert "clock-skew" not in await _rules_found(path, choice, FrozenClock(FIXTURE_TIME))
    later = FrozenClock(FIXTURE_TIME + dt.timedelta(hours=3))
    assert "clock-skew" in await _rules_found(path, choice, later)


def test_without_a_registry_the_sender_rules_are_not_run() -> None:
    names = [rule.name for rule in rules_for(RegistryChoice(None, reason="none given"))]
    assert "unregistered-sender" not in names
    assert "sender-name" not in names
    assert "identifier" not in names
    assert "body-length" in names


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


async def test_the_store_comes_before_the_registry_file(
    store: Store, database_url: str, registry_file: Path, tmp_path: Path
) -> None:
    settings = Settings(store={"url": database_url}, registry_file=registry_file)
    empty = await choose_registry(settings, None)
    assert (empty.origin, empty.location) == ("file", str(registry_file))  # the store holds none
    await replace_registry(store, load_registry(registry_file))
    chosen = await choose_registry(settings, None)
    assert (chosen.origin, chosen.location) == ("store", database_url)
    assert chosen.registry is not None
    assert sorted(chosen.registry.units) == ["天河区", "越秀区"]
    assert chosen.registry.officer("xxy@th.gz.gov.cn") is not None
    assert chosen.describe() == f"registry: store {database_url} (2 units, 2 officers)"
    given = tmp_path / "other.toml"
    given.write_text(REGISTRY.split("[[officers]]")[0], encoding="utf-8")
    explicit = await choose_registry(settings, given)
    assert (explicit.origin, explicit.location) == ("file", str(given))
    assert explicit.to_json() == {"from": "file", "at": str(given), "units": 2, "officers": 0}


async def test_no_store_file_and_no_registry_file_is_no_registry(tmp_path: Path) -> None:
    database = tmp_path / "var" / "mailgate.db"
    settings = Settings(store={"url": f"sqlite+aiosqlite:///{database}"})
    chosen = await choose_registry(settings, None)
    assert chosen.registry is None
    assert chosen.to_json() is None
    assert chosen.describe().startswith(f"no registry (store sqlite+aiosqlite:///{database} does not exist)")
    assert not database.parent.exists()
