"""Replay after a registry change: preview first, then apply once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import BODY, REGISTRY, TITLE, submission
from sqlalchemy import func, select

from mailgate.app import build_daemon
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.desk.log import LogFilter
from mailgate.desk.replay import (
    NOTE_ACCEPTED,
    NOTE_UNCHANGED,
    REF_KINDS,
    ReplayRef,
    apply,
    preview,
    refs_for,
)
from mailgate.pipeline import Pipeline
from mailgate.registry import load_registry
from mailgate.store import Store
from mailgate.store.models import Failure, Item, Message, Outbox, Replay
from mailgate.store.registry import replace_registry
from mailgate.store.state import Failures

_names = itertools.count(1)
#: The registry before 天河区's officer was registered.
WITHOUT_OFFICER = REGISTRY.replace('email = "xxy@th.gz.gov.cn"', 'email = "old@th.gz.gov.cn"')


class Desk:
    """A daemon's store and Maildir, and the ops replaying its messages."""

    def __init__(self, root: Path, store: Store) -> None:
        self.root = root
        self.store = store
        self.settings = Settings(
            store={"url": store.url},
            source={"daily": root / "daily", "commissioned": root / "commissioned"},
            transport={"directory": root / "outbox"},
        )

    async def registry(self, text: str) -> None:
        (self.root / "registry.toml").write_text(text, encoding="utf-8")
        await replace_registry(self.store, load_registry(self.root / "registry.toml"))

    def deliver(self, raw: bytes, name: str | None = None) -> str:
        new = self.root / "daily" / "new"
        new.mkdir(parents=True, exist_ok=True)
        name = name or f"1700000000.M{next(_names)}P1.test"
        (new / name).write_bytes(raw)
        return name

    async def run_once(self, *, poison: bytes | None = None) -> None:
        daemon = await build_daemon(self.settings, self.store)
        if poison is not None:
            _poison(daemon, poison)
        await daemon.run(once=True)

    def folder(self, folder: str) -> list[str]:
        path = self.root / "daily" / folder / "cur"
        return sorted(p.name.split(":")[0] for p in path.iterdir()) if path.exists() else []

    def replies(self) -> list[email.message.Message]:
        return [
            email.message_from_bytes(p.read_bytes()) for p in sorted((self.root / "outbox").glob("*.eml"))
        ]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.store.transaction() as repo:
            return int(await repo.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def message(self, message_id: str) -> Message:
        async with self.store.transaction() as repo:
            row = await repo.session.scalar(select(Message).where(Message.message_id == message_id))
            assert row is not None
            return row


def _poison(daemon: Daemon, marker: bytes) -> None:
    real = daemon.pipeline.process

    async def process(raw: bytes, **kwargs: Any) -> Any:
        if marker in raw:
            raise ValueError("boom")
        return await real(raw, **kwargs)

    daemon.pipeline.process = process  # type: ignore[method-assign]


@pytest.fixture
async def desk(store: Store, tmp_path: Path) -> Desk:
    desk = Desk(tmp_path, store)
    await desk.registry(REGISTRY)
    return desk


async def test_a_registered_officer_turns_a_rejection_into_a_receipt_once(desk: Desk) -> None:
    await desk.registry(WITHOUT_OFFICER)
    desk.deliver(submission(1))
    await desk.run_once()
    rejected = await desk.message("1.test@th.gz.gov.cn")
    assert rejected.verdict == "rejected"
    await desk.registry(REGISTRY)
    ref = ReplayRef("message", rejected.id)

    [seen] = await preview(desk.store, desk.settings, [ref])
    assert (seen.old_verdict, seen.new_verdict, seen.changed, seen.reply) == (
        "rejected",
        "accepted",
        True,
        "receipt",
    )
    assert "unregistered-sender" in seen.old_rules
    assert "unregistered-sender" not in seen.new_rules
    assert seen.applicable
    assert not seen.applied
    assert await desk.count(Item) == 0  # a preview changes nothing
    assert await desk.count(Replay) == 0

    [done] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert done.applied
    assert done.new_verdict == "accepted"
    assert done.reply == "receipt"
    assert done.tracking is not None
    accepted = await desk.message("1.test@th.gz.gov.cn")
    assert (accepted.verdict, accepted.unit_id) == ("accepted", "天河区")
    assert [f["rule"] for f in accepted.findings] == seen.new_rules
    assert await desk.count(Item, Item.tracking == done.tracking) == 1
    assert await desk.count(Outbox, Outbox.kind == "receipt", Outbox.status == "pending") == 1
    async with desk.store.transaction() as repo:
        replay = await repo.session.scalar(select(Replay))
        receipt = await repo.session.scalar(select(Outbox).where(Outbox.kind == "receipt"))
    assert replay is not None
    assert receipt is not None
    assert (replay.old_verdict, replay.new_verdict, replay.username) == ("rejected", "accepted", "ops1")
    assert replay.outbox_id == receipt.id
    assert [f["rule"] for f in replay.old_findings] == seen.old_rules

    [again] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert not again.applied
    assert again.note == NOTE_ACCEPTED
    assert (await desk.count(Item), await desk.count(Outbox), await desk.count(Replay)) == (1, 2, 1)

    await desk.run_once()  # the daemon sends the queued receipt
    receipts = [m for m in desk.replies() if m["X-Mailgate-Tracking"] == done.tracking]
    assert len(receipts) == 1
    assert receipts[0]["In-Reply-To"] == "<1.test@th.gz.gov.cn>"


async def test_an_accepted_message_is_previewed_but_never_applied(desk: Desk) -> None:
    desk.deliver(submission(1))
    await desk.run_once()
    accepted = await desk.message("1.test@th.gz.gov.cn")
    ref = ReplayRef("message", accepted.id)
    [same] = await preview(desk.store, desk.settings, [ref])
    # Neither a duplicate of its own row nor a revision of its own item.
    assert (same.new_verdict, same.changed, same.new_rules) == ("accepted", False, same.old_rules)
    await desk.registry(WITHOUT_OFFICER)
    [seen] = await preview(desk.store, desk.settings, [ref])
    assert (seen.new_verdict, seen.changed, seen.reply, seen.note) == ("rejected", True, None, NOTE_ACCEPTED)
    assert not seen.applicable
    [done] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert not done.applied
    assert (await desk.message("1.test@th.gz.gov.cn")).verdict == "accepted"
    assert await desk.count(Replay) == 0
    assert await desk.count(Outbox) == 1


async def test_a_duplicate_stays_ignored(desk: Desk) -> None:
    desk.deliver(submission(1))
    desk.deliver(submission(1))
    await desk.run_once()
    async with desk.store.transaction() as repo:
        ignored = await repo.session.scalar(select(Message).where(Message.verdict == "ignored"))
    assert ignored is not None
    ref = ReplayRef("message", ignored.id)
    [seen] = await preview(desk.store, desk.settings, [ref])
    assert (seen.new_verdict, seen.new_rules, seen.changed, seen.reply) == (
        "ignored",
        ["duplicate"],
        False,
        None,
    )
    assert seen.note == NOTE_UNCHANGED
    [done] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert not done.applied
    assert await desk.count(Replay) == 0
    assert await desk.count(Item) == 1


async def test_changed_findings_of_a_rejection_get_a_fresh_notice_only_when_asked(desk: Desk) -> None:
    await desk.registry(WITHOUT_OFFICER)
    for n, title in ((1, TITLE), (2, "第二条信息")):
        desk.deliver(
            submission(n, title=title, body=BODY.format(title=title).replace("今年以来", "长" * 460))
        )
    await desk.run_once()
    await desk.registry(REGISTRY)
    first = await desk.message("1.test@th.gz.gov.cn")
    second = await desk.message("2.test@th.gz.gov.cn")
    refs = [ReplayRef("message", first.id), ReplayRef("message", second.id)]
    # Selected as the rejection log selects them: newest first (same arrival: highest id first).
    assert await refs_for(desk.store, LogFilter(rule="body-length"), 10) == refs[::-1]
    assert await refs_for(desk.store, LogFilter(rule="body-length"), 1) == refs[1:]
    assert await refs_for(desk.store, LogFilter(rule="clock-skew"), 10) == []
    seen = await preview(desk.store, desk.settings, refs)
    for planned in seen:
        assert (planned.old_verdict, planned.new_verdict, planned.changed) == ("rejected", "rejected", True)
        assert planned.reply == "rejection"
        assert "unregistered-sender" in planned.old_rules
        assert "unregistered-sender" not in planned.new_rules
        assert "body-length" in planned.new_rules
    outbox_before = await desk.count(Outbox)

    [quiet] = await apply(desk.store, desk.settings, refs[:1], "ops1", send_replies=False)
    assert quiet.applied
    assert quiet.reply is None
    assert await desk.count(Outbox) == outbox_before
    [loud] = await apply(desk.store, desk.settings, refs[1:], "ops2", send_replies=True)
    assert loud.applied
    assert loud.reply == "rejection"
    assert await desk.count(Outbox) == outbox_before + 1
    async with desk.store.transaction() as repo:
        replays = {r.message_pk: r for r in await repo.session.scalars(select(Replay))}
    assert replays[first.id].outbox_id is None
    assert replays[second.id].outbox_id is not None
    assert (await desk.message("1.test@th.gz.gov.cn")).findings == replays[first.id].new_findings


async def test_a_quarantined_message_is_processed_released_and_no_longer_quarantined(desk: Desk) -> None:
    name = desk.deliver(submission(1))
    for _ in range(desk.settings.processing.max_attempts):
        await desk.run_once(poison=b"<1.test@")
    assert desk.folder(".Quarantine") == [name]
    async with desk.store.transaction() as repo:
        failure = await repo.session.scalar(select(Failure))
    assert failure is not None
    assert failure.quarantined_at is not None
    ref = ReplayRef("failure", failure.id)

    [seen] = await preview(desk.store, desk.settings, [ref])
    assert (seen.old_verdict, seen.new_verdict, seen.changed, seen.reply) == (
        "quarantined",
        "accepted",
        True,
        "receipt",
    )
    assert seen.from_address == "xxy@th.gz.gov.cn"
    assert await desk.count(Message) == 0

    [done] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert done.applied
    assert done.reply == "receipt"
    assert done.tracking is not None
    async with desk.store.transaction() as repo:
        message = await repo.session.scalar(select(Message))
        released = await repo.session.get(Failure, failure.id)
        replay = await repo.session.scalar(select(Replay))
    assert message is not None
    assert released is not None
    assert replay is not None
    assert (message.mailbox, message.source_key, message.verdict) == ("daily", name, "accepted")
    assert released.released_at is not None
    assert (replay.old_verdict, replay.new_verdict, replay.message_pk) == (
        "quarantined",
        "accepted",
        message.id,
    )
    failures = Failures(desk.store, desk.settings.processing.max_attempts)
    assert not (await failures.known("daily"))[name].quarantined
    assert await failures.quarantined_count() == 0

    [again] = await apply(desk.store, desk.settings, [ref], "ops1", send_replies=True)
    assert not again.applied

    # The same file found again in the inbox is filed by its verdict now, not quarantined.
    desk.deliver((desk.root / "daily" / ".Quarantine" / "cur").iterdir().__next__().read_bytes(), name=name)
    await desk.run_once()
    assert desk.folder(".Processed") == [name]
    assert await desk.count(Message) == 1
    assert [m["X-Mailgate-Tracking"] for m in desk.replies()] == [done.tracking]


async def test_a_preview_runs_beside_the_writer_and_sees_only_what_it_committed(desk: Desk) -> None:
    """The rules run without the write lock: the daemon neither waits for a preview nor blocks it."""
    await desk.registry(WITHOUT_OFFICER)
    desk.deliver(submission(1))
    await desk.run_once()
    rejected = await desk.message("1.test@th.gz.gov.cn")
    await desk.registry(REGISTRY)
    ref = ReplayRef("message", rejected.id)
    async with desk.store.transaction() as repo:  # the writer, in the middle of its work
        row = await repo.session.get(Message, rejected.id)
        assert row is not None
        row.verdict = "ignored"
        await repo.session.flush()
        [seen] = await asyncio.wait_for(preview(desk.store, desk.settings, [ref]), 10)
        assert (seen.old_verdict, seen.new_verdict) == ("rejected", "accepted")
        row.verdict = "rejected"


async def test_an_unknown_reference_is_refused(desk: Desk) -> None:
    with pytest.raises(LookupError):
        await preview(desk.store, desk.settings, [ReplayRef("message", 12345)])
    with pytest.raises(LookupError):
        await apply(desk.store, desk.settings, [ReplayRef("failure", 12345)], "ops1", send_replies=False)


@given(st.sampled_from(REF_KINDS), st.integers(min_value=0, max_value=2**31))
def test_references_read_back_as_written(kind: str, number: int) -> None:
    ref = ReplayRef(kind, number)
    assert ReplayRef.parse(str(ref)) == ref


@pytest.mark.parametrize("text", ["", "message", "message:", "message:x", "item:3", "failure:-1", ":3"])
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a message:ID or failure:ID"):
        ReplayRef.parse(text)


async def test_a_replay_that_fails_while_filing_leaves_the_message_as_it_was(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await desk.registry(WITHOUT_OFFICER)
    desk.deliver(submission(1))
    await desk.run_once()
    await desk.registry(REGISTRY)
    rejected = await desk.message("1.test@th.gz.gov.cn")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Pipeline, "file_item", broken)
    [done] = await apply(
        desk.store, desk.settings, [ReplayRef("message", rejected.id)], "ops1", send_replies=True
    )
    assert not done.applied
    assert not done.applicable
    assert "disk on fire" in done.note
    assert (await desk.message("1.test@th.gz.gov.cn")).verdict == "rejected"
    assert (await desk.count(Replay), await desk.count(Item), await desk.count(Outbox)) == (0, 0, 1)
