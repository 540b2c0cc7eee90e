"""/healthz, the status page and /metrics, read from what the daemon left in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from desk.data import Desk
from messages import submission
from sqlalchemy import delete, update
from tcpproxy import TcpProxy

from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.desk.health import status
from mailgate.store import NewMessage, Store
from mailgate.store.models import Failure, Heartbeat, Item, Message, Outbox, Revision
from mailgate.store.state import Heartbeats
from mailgate.web import create_app
from web.conftest import SECRET, Client, make_app

MakeClient = Callable[[str | None], Awaitable[Client]]


async def _alive(store: Store) -> None:
    beats = Heartbeats(store)
    await beats.beat("inbox:daily", connected=True, handled=3, waiting=1)
    await beats.beat("inbox:commissioned", connected=True, handled=0, waiting=0)
    await beats.beat("outbox", pending=0)


async def test_healthz_is_503_until_every_component_reports_then_200_then_503_when_one_goes_quiet(
    desk: Desk, client: MakeClient
) -> None:
    anonymous = await client(None)
    silent = await anonymous.get("/healthz")
    assert silent.status_code == 503
    assert silent.json()["healthy"] is False
    await _alive(desk.store)
    alive = await anonymous.get("/healthz")
    assert alive.status_code == 200
    body = alive.json()
    assert body["healthy"] is True
    assert body["inboxes"]["daily"] | {"last_beat": None, "age_seconds": None} == {
        "up": True,
        "connected": True,
        "last_beat": None,
        "age_seconds": None,
        "handled": 3,
        "waiting": 1,
        "unreadable": None,
        "error": None,
    }
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    async with desk.store.transaction() as repo:
        await repo.session.execute(
            update(Heartbeat).where(Heartbeat.component == "inbox:commissioned").values(beat_at=long_ago)
        )
    stale = await anonymous.get("/healthz")
    assert stale.status_code == 503
    assert stale.json()["inboxes"]["commissioned"]["up"] is False
    await Heartbeats(desk.store).beat("inbox:commissioned", connected=False, error="connection refused")
    down = (await anonymous.get("/healthz")).json()["inboxes"]["commissioned"]
    assert (down["up"], down["error"]) == (False, "connection refused")


async def test_an_unreachable_database_is_unhealthy() -> None:
    store = Store("sqlite+aiosqlite:////nonexistent/directory/mailgate.db")
    try:
        health = await status(store, Settings())
    finally:
        await store.close()
    assert health.database is False
    assert health.healthy is False
    assert health.error


async def test_healthz_and_metrics_answer_without_the_database_saying_why_in_short(database_url: str) -> None:
    """PostgreSQL refused at the door (the driver's OSError once made this a 500); SQLite in a folder that
    does not exist. 503 with a one-line reason, no SQL; /metrics says the database is down."""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxy.refuse()
        sqlite = database_url.startswith("sqlite")
        store = Store(
            "sqlite+aiosqlite:////nonexistent/directory/x.db" if sqlite else proxy.url(database_url)
        )
        scraper = Client(make_app(store))
        try:
            response = await scraper.get("/healthz")
            assert response.status_code == 503
            body = response.json()
            assert (body["healthy"], body["database"]) == (False, False)
            assert body["error"].startswith("database unavailable: ")
            assert len(body["error"]) < 300
            assert "SELECT" not in body["error"]
            metrics = await scraper.get("/metrics")
            assert metrics.status_code == 200
            assert _samples(metrics.text) == {"mailgate_database_up": 0}
        finally:
            await scraper.http.aclose()
            await store.close()


async def test_healthz_reports_unreadable_maildir_files(desk: Desk, client: MakeClient) -> None:
    await _alive(desk.store)
    await Heartbeats(desk.store).beat("inbox:daily", connected=True, handled=0, waiting=0, unreadable=2)
    anonymous = await client(None)
    body = (await anonymous.get("/healthz")).json()
    assert body["inboxes"]["daily"]["unreadable"] == 2
    assert body["inboxes"]["commissioned"]["unreadable"] is None  # a heartbeat without the count
    samples = _samples((await anonymous.get("/metrics")).text)
    assert samples['mailgate_inbox_unreadable_files{inbox="daily"}'] == 2
    assert samples['mailgate_inbox_unreadable_files{inbox="commissioned"}'] == 0


async def test_the_status_page_shows_inboxes_outbox_and_quarantine(desk: Desk, client: MakeClient) -> None:
    await _alive(desk.store)
    await desk.file(submission(1))  # a receipt waits in the outbox
    now = dt.datetime.now(dt.UTC)
    async with desk.store.transaction() as repo:
        repo.session.add(
            Failure(
                mailbox="daily",
                source_key="k1",
                attempts=3,
                last_error="boom",
                first_failed_at=now,
                last_failed_at=now,
                quarantined_at=now,
            )
        )
    ops = await client("ops")
    page = await ops.get("/status")
    assert page.status_code == 200
    assert "一切正常" in page.text
    assert "日常信息信箱" in page.text
    assert "约稿信息信箱" in page.text
    assert '<p class="big">1</p>' in page.text  # one quarantined message
    assert "<dt>待发送</dt><dd>1</dd>" in page.text.replace("\n", "")


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


async def test_metrics_count_verdicts_findings_replies_and_processing_time(
    desk: Desk, client: MakeClient
) -> None:
    await _alive(desk.store)
    await desk.file(submission(1))
    await desk.file(submission(2, title="另一条信息", identifier="越秀区"))
    await desk.file(submission(3, sender="stranger@example.com", title="第三条"))
    async with desk.store.transaction() as repo:  # three more with known processing times
        for n, ms in ((4, 3.0), (5, 40.0), (6, 2000.0)):
            await repo.add_message(timed(n, ms), dt.datetime.now(dt.UTC))
    response = await (await client(None)).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert samples['mailgate_messages_total{verdict="accepted"}'] == 1
    assert samples['mailgate_messages_total{verdict="rejected"}'] == 5
    assert samples['mailgate_messages_total{verdict="ignored"}'] == 0
    assert samples['mailgate_findings_total{rule="identifier"}'] == 1
    assert samples['mailgate_findings_total{rule="unregistered-sender"}'] == 1
    assert samples['mailgate_replies_total{status="sent"}'] == 0
    assert samples["mailgate_replies_pending"] == 3
    # The pipeline's own three took well under a second each; the rest as stated.
    assert samples['mailgate_processing_seconds_bucket{le="0.005"}'] >= 1
    assert samples['mailgate_processing_seconds_bucket{le="1.0"}'] == 5
    assert samples['mailgate_processing_seconds_bucket{le="2.5"}'] == 6
    assert samples['mailgate_processing_seconds_bucket{le="+Inf"}'] == 6
    assert samples["mailgate_processing_seconds_count"] == 6
    assert 2.043 < samples["mailgate_processing_seconds_sum"] < 5.043
    assert samples["mailgate_quarantined_messages"] == 0
    assert samples['mailgate_inbox_up{inbox="daily"}'] == 1
    assert samples["mailgate_database_up"] == 1


def timed(n: int, processing_ms: float) -> NewMessage:
    return NewMessage(
        mailbox="daily",
        uidvalidity=None,
        uid=None,
        source_key=f"timed-{n}",
        message_id=f"timed-{n}@x",
        content_hash=f"{n:064d}",
        size=1,
        from_address="xxy@th.gz.gov.cn",
        subject="s",
        unit_id=None,
        received_at=dt.datetime.now(dt.UTC),
        verdict="rejected",
        findings=[],
        raw=None,
        processing_ms=processing_ms,
    )


async def test_metrics_cost_no_scan_of_the_history(desk: Desk, client: MakeClient) -> None:
    """What /metrics reads does not grow with the messages on file: their rows can go, the counts stay."""
    await _alive(desk.store)
    await desk.file(submission(1))
    anonymous = await client(None)
    before = _samples((await anonymous.get("/metrics")).text)
    async with desk.store.transaction() as repo:
        for model in (Outbox, Revision, Item, Message):
            await repo.session.execute(delete(model))
    after = _samples((await anonymous.get("/metrics")).text)
    assert after['mailgate_messages_total{verdict="accepted"}'] == 1
    assert after["mailgate_processing_seconds_count"] == before["mailgate_processing_seconds_count"] == 1
    assert after["mailgate_replies_pending"] == 0  # open replies are counted now, from the outbox


async def test_metrics_can_require_a_bearer_token(desk: Desk) -> None:
    app = make_app(desk.store, metrics_token="scrape-me")
    scraper = Client(app)
    try:
        assert (await scraper.get("/metrics")).status_code == 401
        wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        right = await scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200
        assert "mailgate_messages_total" in right.text
        assert (await scraper.get("/healthz")).status_code == 503  # health needs no token
    finally:
        await scraper.http.aclose()


async def test_beyond_loopback_metrics_need_a_token_from_the_environment_or_a_file(
    desk: Desk, tmp_path: Path
) -> None:
    open_to_all = Client(make_app(desk.store, host="0.0.0.0"))
    try:
        refused = await open_to_all.get("/metrics")
        assert refused.status_code == 403
        assert "metrics_token" in refused.text
    finally:
        await open_to_all.http.aclose()
    secret = tmp_path / "metrics-token"
    secret.write_text("from-a-file\n", encoding="utf-8")
    guarded = Client(make_app(desk.store, host="0.0.0.0", metrics_token_file=secret))
    try:
        assert (await guarded.get("/metrics")).status_code == 401
        right = await guarded.get("/metrics", headers={"Authorization": "Bearer from-a-file"})
        assert right.status_code == 200
    finally:
        await guarded.http.aclose()


async def test_the_status_page_shows_unreadable_maildir_files(desk: Desk, client: MakeClient) -> None:
    await _alive(desk.store)
    await Heartbeats(desk.store).beat("inbox:daily", connected=True, handled=0, waiting=0, unreadable=2)
    page = await (await client("ops")).get("/status")
    assert page.status_code == 200
    assert "<dt>无法读取</dt>" in page.text
    assert "2 个文件" in page.text


async def test_health_status_and_metrics_judge_silence_by_the_desks_clock(desk: Desk) -> None:
    beat_at = dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC)  # far from the machine's clock
    clock = FrozenClock(beat_at + dt.timedelta(seconds=5))
    beats = Heartbeats(desk.store, FrozenClock(beat_at))
    for component in ("inbox:daily", "inbox:commissioned"):
        await beats.beat(component, connected=True, handled=0, waiting=0)
    await beats.beat("outbox", pending=0)
    settings = Settings()
    app = create_app(settings, desk.store, secret_key=SECRET, clock=clock)
    ops, scraper = Client(app), Client(app)
    try:
        assert (await ops.login("ops")).status_code == 303
        fresh = await scraper.get("/healthz")
        assert fresh.status_code == 200
        assert fresh.json()["checked_at"] == clock.now().isoformat()
        assert fresh.json()["inboxes"]["daily"]["age_seconds"] == 5.0
        assert _samples((await scraper.get("/metrics")).text)['mailgate_inbox_up{inbox="daily"}'] == 1
        assert "（5 秒前）" in (await ops.get("/status")).text
        clock.advance(dt.timedelta(seconds=settings.web.stale_seconds + 1))
        stale = await scraper.get("/healthz")
        assert stale.status_code == 503
        assert stale.json()["inboxes"]["daily"]["up"] is False
        assert _samples((await scraper.get("/metrics")).text)['mailgate_inbox_up{inbox="daily"}'] == 0
    finally:
        await ops.http.aclose()
        await scraper.http.aclose()


async def test_beyond_loopback_healthz_says_only_that_the_database_is_unavailable(database_url: str) -> None:
    """The driver's error names the database's host and port: said in full on loopback only."""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxy.refuse()
        sqlite = database_url.startswith("sqlite")
        store = Store(
            "sqlite+aiosqlite:////nonexistent/directory/x.db" if sqlite else proxy.url(database_url)
        )
        public, local = Client(make_app(store, host="0.0.0.0")), Client(make_app(store, host="127.0.0.1"))
        try:
            outside = await public.get("/healthz")
            assert str(proxy.port) not in outside.text
            assert outside.status_code == 503
            assert (outside.json()["database"], outside.json()["error"]) == (False, "database unavailable")
            inside = (await local.get("/healthz")).json()["error"]
            assert inside.startswith("database unavailable: ")
            assert len(inside) > len("database unavailable: ")
            assert (str(proxy.port) in inside) is not sqlite  # the operator on the machine sees where
        finally:
            await public.http.aclose()
            await local.http.aclose()
            await store.close()
