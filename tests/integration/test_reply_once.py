"""A reply whose send failed once its data had begun to go out is never sent again: it is left unknown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from messages import FIXTURE_TIME, submission
from servers import LOOPBACK, free_port
from sqlalchemy import select

from integration._daemon import maildir_data
from mailgate.app import build_daemon
from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.store import Store
from mailgate.store.counters import read as read_counters
from mailgate.store.models import Outbox


class DropsAfterData:
    """An aiosmtpd handler that takes the whole message, then drops the connection without a reply:
    the message may well be delivered, and the client cannot know."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        assert server.transport is not None
        server.transport.abort()
        return "250 never heard"


@pytest.fixture
def dropping() -> Iterator[tuple[DropsAfterData, int]]:
    handler = DropsAfterData()
    port = free_port()
    controller = Controller(handler, hostname=LOOPBACK, port=port, server_hostname="mailgate-test")
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def test_a_connection_lost_after_the_data_leaves_the_reply_unknown_and_never_resends_it(
    store: Store, tmp_path: Path, dropping: tuple[DropsAfterData, int]
) -> None:
    handler, port = dropping
    clock = FrozenClock(FIXTURE_TIME + dt.timedelta(minutes=1))
    data = maildir_data(
        tmp_path,
        store.url,
        transport={"kind": "smtp", "smtp": {"host": LOOPBACK, "port": port, "security": "none"}},
        replies={"retry_min_seconds": 1, "retry_max_seconds": 1},
    )
    settings = Settings(**data)
    new = tmp_path / "daily" / "new"
    new.mkdir(parents=True)
    (new / "1700000000.M1P1.test").write_bytes(submission(1, at=clock.now() - dt.timedelta(minutes=1)))

    await (await build_daemon(settings, store, clock=clock)).run(once=True)
    assert handler.attempts == 1
    clock.advance(dt.timedelta(hours=1))  # long past any retry the reply could have been given
    await (await build_daemon(settings, store, clock=clock)).run(once=True)

    assert handler.attempts == 1
    async with store.reading() as repo:
        [row] = (
            await repo.session.execute(select(Outbox.status, Outbox.last_error, Outbox.claimed_by))
        ).all()
        counted = await read_counters(repo.session)
    assert row.status == "unknown"
    assert row.claimed_by is None
    assert "SMTPServerDisconnected" in (row.last_error or "")
    assert counted.get("replies:unknown") == 1
