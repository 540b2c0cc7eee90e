"""Benchmark the daemon end to end: real Dovecot in, real SMTP sink out, against the bare IMAP ceiling."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.utils
import json
import random
import resource
import shutil
import statistics
import sys
import time
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
sys.path.append(str(ROOT / "tests"))  # the test servers; after the project, whose `rules` it would hide

import aioimaplib  # noqa: E402
import asyncpg  # noqa: E402
from servers import Dovecot, SmtpSink, scratch_dir  # noqa: E402

from mailgate.app import build_daemon  # noqa: E402
from mailgate.config import Settings  # noqa: E402
from mailgate.store import Store  # noqa: E402
from mailgate.store.migrate import upgrade  # noqa: E402
from mailgate.store.models import Message  # noqa: E402

USERS = {"daily": "secret", "commissioned": "secret", "ceiling": "secret"}
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
UNITS = [
    ("天河区", "th.gz.gov.cn"),
    ("越秀区", "yuexiu.gov.cn"),
    ("番禺区", "panyu.gov.cn"),
    ("海珠区", "haizhu.gov.cn"),
]
DOCX = ROOT / "tests" / "fixtures" / "word"
BODY = """{title}

{text}

作者单位：{unit}政府办
姓名：张三
联系电话：020-3862{n:04d}
日期：{signed}
"""
SENTENCE = "今年以来，该区围绕智慧城市建设，新建5G基站1200个，政务服务事项网上办理率达到98%。"


def registry() -> str:
    lines = []
    for unit, domain in UNITS:
        lines += ["[[units]]", f'id = "{unit}"', f'name = "{unit}人民政府办公室"', 'series = "district"', ""]
        lines += ["[[officers]]", f'email = "xxy@{domain}"', 'name = "张三"', f'unit = "{unit}"', ""]
    return "\n".join(lines)


#: The units' time zone; the messages are dated at run time, so the benchmark answers them on any day.
GUANGZHOU = dt.timezone(dt.timedelta(hours=8))


def message(n: int, rng: random.Random, docx: bytes, now: dt.datetime | None = None) -> bytes:
    """80 % valid, 20 % with faults; 10 % carry a .docx. Received ``now`` (default: this moment)."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(GUANGZHOU)
    unit, domain = UNITS[n % len(UNITS)]
    title = body_title = f"{unit}第{n}号信息：推进智慧城市建设"
    text = SENTENCE * rng.randint(2, 8)
    identifier = unit
    if rng.random() < 0.2:
        fault = n % 4
        if fault == 0:
            text = SENTENCE * 20  # body-length
        elif fault == 1:
            identifier = UNITS[(n + 1) % len(UNITS)][0]  # identifier
        elif fault == 2:
            body_title = "另一个标题"  # subject-title
        else:
            domain = "unknown.example.cn"  # unregistered-sender
    signed = f"{local.year}年{local.month}月{local.day}日"
    body = BODY.format(title=body_title, text=text, unit=unit, n=n, signed=signed)
    msg = EmailMessage()
    msg["Received"] = f"from mail.gz.gov.cn by mx.gzy.gov.cn; {email.utils.format_datetime(local)}"
    msg["From"] = Address(f"{unit}政府办", addr_spec=f"xxy@{domain}")
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = f"【{identifier}】{title}"
    msg["Date"] = email.utils.format_datetime(local - dt.timedelta(minutes=1))
    msg["Message-ID"] = f"<{n}.{uuid.uuid4().hex}@{domain}>"
    msg.set_content(body, charset="gb18030")
    if rng.random() < 0.1:
        msg.add_attachment(
            docx,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
            filename="详细材料.docx",
        )
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def ceiling(dovecot: Dovecot, count: int) -> float:
    """Messages per second for a bare aioimaplib loop: BODY.PEEK[] 100 a batch, UID MOVE per batch."""
    client = aioimaplib.IMAP4(host=dovecot.host, port=dovecot.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login("ceiling", "secret")
    await client.create("Processed")
    await client.select("INBOX")
    start = time.perf_counter()
    response = await client.uid_search("ALL")
    uids = [int(u) for u in response.lines[0].split()]
    fetched = 0
    for i in range(0, len(uids), 100):
        chunk = uids[i : i + 100]
        uid_set = f"{chunk[0]}:{chunk[-1]}"
        response = await client.uid("fetch", uid_set, "(BODY.PEEK[])")
        fetched += sum(1 for line in response.lines if isinstance(line, bytearray))
        await client.uid("move", uid_set, "Processed")
    elapsed = time.perf_counter() - start
    await client.logout()
    if fetched < count:
        raise SystemExit(f"ceiling loop fetched {fetched} of {count}")
    return count / elapsed


async def drained(store: Store, count: int) -> None:
    from sqlalchemy import func, select

    while True:  # a benchmark may poll; the tests await events instead
        async with store.transaction() as repo:
            done = await repo.session.scalar(select(func.count()).select_from(Message))
        if (done or 0) >= count:
            return
        await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(7)
    docx = (DOCX / "mid.docx").read_bytes()
    base = scratch_dir("mg-bench-")
    dovecot = Dovecot(base, USERS)
    sink = SmtpSink()
    db_name = None
    try:
        dovecot.start()
        sink.start()
        messages = [message(n, rng, docx) for n in range(args.messages)]
        dovecot.drop_into_maildir("ceiling", "INBOX", messages)
        ceiling_rate = await ceiling(dovecot, args.messages)

        if args.store == "sqlite":
            url = f"sqlite+aiosqlite:///{base}/mailgate.db"
        else:
            db_name = f"mailgate_bench_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(PG_DSN)
            await admin.execute(f'CREATE DATABASE "{db_name}"')
            await admin.close()
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db_name}"
        await asyncio.to_thread(upgrade, url)
        (base / "registry.toml").write_text(registry(), encoding="utf-8")
        settings = Settings(
            registry_file=base / "registry.toml",
            log_level="warning",
            store={"url": url},
            source={
                "kind": "imap",
                "imap": {
                    "host": dovecot.host,
                    "port": dovecot.port,
                    "security": "none",
                    "daily": {"username": "daily", "password": "secret"},
                    "commissioned": {"username": "commissioned", "password": "secret"},
                },
            },
            transport={"kind": "smtp", "smtp": {"host": sink.host, "port": sink.port, "security": "none"}},
            replies={"per_address_per_hour": 10**9},
        )
        from mailgate.log import configure

        configure(args.log_level)
        dovecot.drop_into_maildir("daily", "INBOX", messages)
        store = Store(url)
        daemon = await build_daemon(settings, store)
        start = time.perf_counter()
        task = asyncio.create_task(daemon.run())
        await drained(store, args.messages)
        await sink.wait_for(args.messages, timeout=600)
        rate = args.messages / (time.perf_counter() - start)

        latencies = []
        for n in range(args.samples):
            before = len(sink.messages)
            raw = message(10**6 + n, rng, docx)
            t0 = time.perf_counter()
            await asyncio.to_thread(dovecot.append, "daily", "INBOX", raw)
            await sink.wait_for(before + 1, timeout=30)
            latencies.append((time.perf_counter() - t0) * 1000)
        daemon.stop()
        await task
        await store.close()
        latencies.sort()
        return {
            "store": args.store,
            "messages": args.messages,
            "rate": round(rate, 1),
            "ceiling": round(ceiling_rate, 1),
            "ratio": round(rate / ceiling_rate, 3),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        sink.stop()
        dovecot.kill()
        shutil.rmtree(base, ignore_errors=True)
        if db_name:
            admin = await asyncpg.connect(PG_DSN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--samples", type=int, default=50, help="latency samples under IDLE")
    parser.add_argument("--log-level", default="warning")
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
