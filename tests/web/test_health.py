"""/healthz, the status page and /metrics, read from what the daemon left in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from desk.data import Desk
from messages import submission
from sqlalchemy import update

from mailgate.config import Settings
from mailgate.desk.health import status
from mailgate.store import Store
from mailgate.store.models import Failure, Heartbeat, Message
from mailgate.store.state import Heartbeats
from web.conftest import Client, make_app

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
    first = await desk.file(submission(1))
    second = await desk.file(submission(2, title="另一条信息", identifier="越秀区"))
    third = await desk.file(submission(3, sender="stranger@example.com", title="第三条"))
    async with desk.store.transaction() as repo:
        for pk, ms in ((first.message_pk, 3.0), (second.message_pk, 40.0), (third.message_pk, 2000.0)):
            await repo.session.execute(update(Message).where(Message.id == pk).values(processing_ms=ms))
    response = await (await client(None)).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert samples['mailgate_messages_total{verdict="accepted"}'] == 1
    assert samples['mailgate_messages_total{verdict="rejected"}'] == 2
    assert samples['mailgate_messages_total{verdict="ignored"}'] == 0
    assert samples['mailgate_findings_total{rule="identifier"}'] == 1
    assert samples['mailgate_findings_total{rule="unregistered-sender"}'] == 1
    assert samples['mailgate_replies_total{status="sent"}'] == 0
    assert samples["mailgate_replies_pending"] == 3
    assert samples['mailgate_processing_seconds_bucket{le="0.005"}'] == 1
    assert samples['mailgate_processing_seconds_bucket{le="0.025"}'] == 1
    assert samples['mailgate_processing_seconds_bucket{le="0.05"}'] == 2
    assert samples['mailgate_processing_seconds_bucket{le="1.0"}'] == 2
    assert samples['mailgate_processing_seconds_bucket{le="2.5"}'] == 3
    assert samples['mailgate_processing_seconds_bucket{le="+Inf"}'] == 3
    assert samples["mailgate_processing_seconds_count"] == 3
    assert abs(samples["mailgate_processing_seconds_sum"] - 2.043) < 1e-9
    assert samples["mailgate_quarantined_messages"] == 0
    assert samples['mailgate_inbox_up{inbox="daily"}'] == 1
    assert samples["mailgate_database_up"] == 1


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
