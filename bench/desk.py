"""Benchmark the desk's queries on a large store: milliseconds per page of the queue and of the log."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import asyncpg  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from mailgate.config import Settings  # noqa: E402
from mailgate.desk.log import LogFilter, list_log, log_stats, message_view  # noqa: E402
from mailgate.desk.queue import QueueFilter, item_detail, list_queue  # noqa: E402
from mailgate.desk.search import terms  # noqa: E402
from mailgate.store import Store  # noqa: E402
from mailgate.store.migrate import upgrade  # noqa: E402
from mailgate.store.models import Item, Message, Revision, UnitRow  # noqa: E402

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SERIES = ("district", "dept-a", "dept-b", "direct")
DISTRICTS = (
    "天河区",
    "越秀区",
    "海珠区",
    "荔湾区",
    "白云区",
    "黄埔区",
    "番禺区",
    "花都区",
    "南沙区",
    "从化区",
    "增城区",
)
TOPICS = (
    "智慧城市建设", "老旧小区改造", "垃圾分类", "营商环境", "乡村振兴", "交通拥堵治理",
    "防汛防风", "疫情防控", "招商引资", "文明城市创建", "河长制", "政务服务",
    "科技创新", "教育均衡", "养老服务", "食品安全",
)  # fmt: skip
PHRASES = (
    "今年以来，{unit}围绕{topic}，扎实推进各项工作。",
    "新建项目{n}个，完成投资{m}亿元，同比增长{p}%。",
    "群众满意度达到{p}%，工作经验得到上级肯定。",
    "下一步，将继续加大力度，确保{topic}取得实效。",
    "组织专题会议{n}次，督促落实责任。",
)
RULES = (
    "body-length",
    "identifier",
    "unregistered-sender",
    "required-elements",
    "subject-title",
    "auto-reply",
)
BATCH = 5000


def _units() -> list[dict[str, Any]]:
    units = [{"id": d, "name": f"{d}人民政府办公室", "aliases": [], "series": "district"} for d in DISTRICTS]
    for n in range(40):
        series = SERIES[1 + n % 3]
        units.append({"id": f"部门{n:02d}", "name": f"市第{n:02d}局", "aliases": [], "series": series})
    return units


def _body(rng: random.Random, unit: str, topic: str) -> str:
    picks = rng.choices(PHRASES, k=rng.randint(3, 8))
    fields = {"unit": unit, "topic": topic, "n": rng.randint(1, 500), "m": rng.randint(1, 90)}
    return "".join(p.format(p=rng.randint(50, 99), **fields) for p in picks)


async def seed(store: Store, items: int, logged: int, rng: random.Random) -> None:
    """``items`` accepted messages with one item each, and ``logged`` rejected or ignored messages."""
    units = _units()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with store.transaction() as repo:
        await repo.session.execute(insert(UnitRow), units)
    for first in range(0, items + logged, BATCH):
        messages, rows, revisions = [], [], []
        for n in range(first, min(first + BATCH, items + logged)):
            unit = rng.choice(units)["id"]
            at = start + dt.timedelta(seconds=rng.randint(0, 330 * 86400))
            accepted = n < items
            verdict = "accepted" if accepted else rng.choice(("rejected", "rejected", "rejected", "ignored"))
            findings = [] if accepted else [
                {"rule": r, "severity": "reject", "reason": "default", "params": {}}
                for r in rng.sample(RULES, rng.randint(1, 2))
            ]  # fmt: skip
            messages.append(
                {
                    "id": n + 1, "mailbox": rng.choice(("daily", "commissioned")), "source_key": f"k{n}",
                    "message_id": f"{n}@bench", "content_hash": f"{n:064x}", "size": 4000,
                    "from_address": f"xxy{n % 300}@unit{n % 300}.gov.cn", "subject": f"【{unit}】信息{n}",
                    "unit_id": unit, "received_at": at, "processed_at": at, "verdict": verdict,
                    "findings": findings, "raw": None,
                }
            )  # fmt: skip
            if not accepted:
                continue
            topic = rng.choice(TOPICS)
            title = f"{unit}{topic}工作取得新进展（{n}）"
            body = _body(rng, unit, topic)
            rows.append(
                {
                    "id": n + 1, "tracking": f"{at:%Y%m%d}-{n + 1:06d}", "unit_id": unit, "title": title,
                    "title_key": title, "inbox": rng.choice(("daily", "daily", "daily", "commissioned")),
                    "urgent": rng.random() < 0.02, "commission_code": None, "late": False,
                    "status": rng.choice(("new", "new", "review", "used", "unused")),
                    "search_text": terms(f"{title}\n{body}\n"), "created_at": at, "updated_at": at,
                }
            )  # fmt: skip
            revisions.append(
                {
                    "item_id": n + 1, "number": 1, "message_pk": n + 1, "title": title, "body": body,
                    "body_zi": len(body), "counting": "word", "created_at": at,
                }
            )  # fmt: skip
        async with store.transaction() as repo:
            await repo.session.execute(insert(Message), messages)
            if rows:
                await repo.session.execute(insert(Item), rows)
                await repo.session.execute(insert(Revision), revisions)
    async with store.transaction() as repo:
        if store.engine.dialect.name == "sqlite":
            await repo.session.execute(
                text("INSERT INTO items_fts(rowid, search_text) SELECT id, search_text FROM items")
            )
        else:
            await repo.session.execute(
                text("SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))")
            )
            await repo.session.execute(text("SELECT setval('items_id_seq', (SELECT max(id) FROM items))"))
    # PostgreSQL as autovacuum would have left it (statistics, visibility map); SQLite as a real
    # store is, without statistics (nothing runs ANALYZE on it).
    if store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as conn:
            ready = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await ready.execute(text("VACUUM ANALYZE"))


async def _timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


async def _deep(store: Store, where: QueueFilter | LogFilter, pages: int) -> float:
    """Median milliseconds per page while paging ``pages`` pages in."""
    times, cursor = [], None
    for _ in range(pages):
        started = time.perf_counter()
        if isinstance(where, QueueFilter):
            page: Any = await list_queue(store, where, cursor=cursor)
        else:
            page = await list_log(store, where, cursor=cursor)
        times.append((time.perf_counter() - started) * 1000)
        cursor = page.next_cursor
        if cursor is None:
            break
    return statistics.median(times)


async def measure(store: Store, repeat: int) -> list[tuple[str, float, int | None]]:
    day = dt.date(2026, 6, 15)
    settings = Settings()
    zone = settings.zone
    queue_cases = {
        "queue: first page": QueueFilter(),
        "queue: unit": QueueFilter(unit="天河区"),
        "queue: series dept-b": QueueFilter(series="dept-b"),
        "queue: status used + commissioned": QueueFilter(status="used", inbox="commissioned"),
        "queue: one day": QueueFilter(since=day, until=day, zone=zone),
        "queue: search 智慧城市 (common)": QueueFilter(text="智慧城市"),
        "queue: search 河长制 + unit": QueueFilter(text="河长制", unit="越秀区"),
        "queue: search 疫情 南沙 (rare pair)": QueueFilter(text="疫情防控 南沙区"),
        "queue: search, no match": QueueFilter(text="不存在的词语"),
    }
    log_cases = {
        "log: first page": LogFilter(),
        "log: rule identifier": LogFilter(rule="identifier"),
        "log: unit + verdict ignored": LogFilter(unit="海珠区", verdict="ignored"),
        "log: sender substring": LogFilter(sender="xxy17@"),
        "log: one week": LogFilter(since=day, until=day + dt.timedelta(days=6), zone=zone),
    }
    results: list[tuple[str, float, int | None]] = []
    for name, where in queue_cases.items():
        ms, page = await _timed(functools.partial(list_queue, store, where), repeat)
        results.append((name, ms, page.total))
    results.append(("queue: pages 2-50 (keyset)", await _deep(store, QueueFilter(), 50), None))
    results.append(("queue: search pages 2-20", await _deep(store, QueueFilter(text="政务服务"), 20), None))
    first = (await list_queue(store, QueueFilter(), limit=1)).rows[0].id
    ms, _ = await _timed(lambda: item_detail(store, first, settings=settings), repeat)
    results.append(("item detail", ms, None))
    for name, log_where in log_cases.items():
        ms, page = await _timed(functools.partial(list_log, store, log_where), repeat)
        results.append((name, ms, len(page.rows)))
    results.append(("log: pages 2-50 (keyset)", await _deep(store, LogFilter(), 50), None))
    june = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    ms, _ = await _timed(lambda: log_stats(store, *june, zone=zone), repeat)
    results.append(("log stats: one month", ms, None))
    ms, _ = await _timed(lambda: log_stats(store, zone=zone), repeat)
    results.append(("log stats: everything", ms, None))
    row = (await list_log(store, LogFilter(), limit=1)).rows[0]
    ms, _ = await _timed(lambda: message_view(store, row.kind, row.id, settings=settings), repeat)
    results.append(("message view (no raw kept)", ms, None))
    return results


async def _pg(statement: str) -> None:
    admin = await asyncpg.connect(PG_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def run(backend: str, items: int, logged: int, repeat: int) -> None:
    scratch = tempfile.mkdtemp(prefix="mailgate-bench-")
    name = f"mailgate_bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{scratch}/desk.db"
    else:
        await _pg(f'CREATE DATABASE "{name}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        store = Store(url)
        try:
            started = time.perf_counter()
            await seed(store, items, logged, random.Random(2004))
            seconds = time.perf_counter() - started
            print(f"\n{backend}: {items} items, {logged} logged messages (seeded in {seconds:.0f} s)")
            for label, ms, count in await measure(store, repeat):
                extra = "" if count is None else f"   ({count} rows)"
                print(f"  {label:<40} {ms:8.1f} ms{extra}")
        finally:
            await store.close()
    finally:
        if backend == "postgresql":
            await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--logged", type=int, default=100_000, help="rejected and ignored messages")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query; the median is reported")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.store == "both" else (args.store,):
        asyncio.run(run(backend, args.items, args.logged, args.repeat))


if __name__ == "__main__":
    main()
