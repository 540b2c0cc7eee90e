"""Benchmark /metrics and /healthz on a large SQLite store: milliseconds a scrape, and the 0006 back-fill."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import insert  # noqa: E402

from mailgate.config import Settings  # noqa: E402
from mailgate.desk.health import metrics_text, status  # noqa: E402
from mailgate.store import Store  # noqa: E402
from mailgate.store.migrate import upgrade  # noqa: E402
from mailgate.store.models import Base  # noqa: E402

RULES = ("identifier", "subject-title", "body-length", "clock-skew", "unregistered-sender", "signature")
VERDICTS = ("accepted", "accepted", "accepted", "rejected", "ignored")
CHUNK = 5000


def _messages(start: int, count: int, rng: random.Random, now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for n in range(start, start + count):
        findings = [
            {"rule": rng.choice(RULES), "severity": "warn", "reason": "r", "params": {}}
            for _ in range(rng.randint(0, 3))
        ]
        rows.append(
            {
                "id": n,
                "mailbox": "daily",
                "uidvalidity": 1,
                "uid": n,
                "source_key": f"1:{n}",
                "message_id": f"{n}@bench",
                "content_hash": f"{n:064x}",
                "size": 4000,
                "from_address": "xxy@th.gz.gov.cn",
                "subject": f"【天河区】第{n}条",
                "unit_id": "天河区",
                "received_at": now,
                "processed_at": now,
                "verdict": rng.choice(VERDICTS),
                "findings": findings,
                "raw": None,
                "processing_ms": rng.uniform(2, 400),
            }
        )
    return rows


def _replies(start: int, count: int, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "message_pk": n,
            "kind": "receipt",
            "sender": "inf@gzy.gov.cn",
            "recipient": "xxy@th.gz.gov.cn",
            "reply_message_id": f"r{n}@bench",
            "raw": b"x",
            "status": "sent",
            "attempts": 1,
            "next_attempt_at": now,
            "created_at": now,
            "sent_at": now,
        }
        for n in range(start, start + count)
    ]


async def fill(url: str, count: int) -> None:
    store = Store(url)
    rng = random.Random(7)
    now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    messages, outbox = Base.metadata.tables["messages"], Base.metadata.tables["outbox"]
    try:
        for start in range(1, count + 1, CHUNK):
            size = min(CHUNK, count + 1 - start)
            async with store.transaction() as repo:
                await repo.session.execute(insert(messages), _messages(start, size, rng, now))
                await repo.session.execute(
                    insert(outbox).execution_options(render_nulls=True),
                    [{k: v for k, v in r.items() if k in outbox.c} for r in _replies(start, size, now)],
                )
    finally:
        await store.close()


async def scrape(url: str, rounds: int) -> tuple[list[float], list[float], bytes]:
    store = Store(url)
    settings = Settings()
    metrics, health = [], []
    text = b""
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            text = await metrics_text(store, settings)
            metrics.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await status(store, settings)
            health.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return metrics, health, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url, "0005")  # the history as a store had it before the counters
        started = time.perf_counter()
        asyncio.run(fill(url, args.messages))
        print(f"filled {args.messages} messages and replies in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        upgrade(url)
        print(f"migrated to head (the counters back-filled) in {time.perf_counter() - started:.1f} s")
        metrics, health, text = asyncio.run(scrape(url, args.rounds))
        print(f"/metrics: median {statistics.median(metrics):.1f} ms, max {max(metrics):.1f} ms")
        print(f"/healthz: median {statistics.median(health):.1f} ms, max {max(health):.1f} ms")
        accepted = next(line for line in text.decode().splitlines() if 'verdict="accepted"' in line)
        print(f"  e.g. {accepted}")


if __name__ == "__main__":
    main()
