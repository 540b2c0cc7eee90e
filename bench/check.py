"""Benchmark the rule engine: parse + evaluate per second, on the corpus and on messages with a .docx."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from mailgate.config import RulesSettings
from mailgate.mail.parse import parse_message
from mailgate.registry import load_registry
from rules import Context, Inbox, default_rules, evaluate

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "messages"
REGISTRY = ROOT / "tests" / "corpus" / "registry.toml"
DOCX = ROOT / "tests" / "fixtures" / "word"

BODY = """天河区推进智慧城市建设取得新进展

今年以来，天河区围绕智慧城市建设，新建5G基站1200个，政务服务事项网上办理率达98%。

作者单位：天河区政府办
姓名：张三
联系电话：020-38622000
日期：2026年11月26日
"""


def docx_message(docx: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "天河区政府办 <xxy@th.gz.gov.cn>"
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = "【天河区】天河区推进智慧城市建设取得新进展"
    msg["Date"] = "Thu, 26 Nov 2026 09:58:00 +0800"
    msg["Message-ID"] = "<bench@th.gz.gov.cn>"
    msg.set_content(BODY, charset="gb18030")
    msg.add_attachment(
        docx,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="详细材料.docx",
    )
    return bytes(msg)


def rate(messages: list[bytes], context: Context, seconds: float) -> float:
    rules = default_rules()
    for raw in messages:  # warm-up
        evaluate(parse_message(raw), context, rules)
    samples = []
    for _ in range(5):
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            for raw in messages:
                evaluate(parse_message(raw), context, rules)
            done += len(messages)
        samples.append(done / (time.perf_counter() - start))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per figure")
    args = parser.parse_args()
    context = Context(
        load_registry(REGISTRY),
        Inbox.DAILY,
        dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        RulesSettings(),
    )
    plain = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml")) if p.stat().st_size < 1_000_000]
    with_docx = [docx_message((DOCX / "mid.docx").read_bytes())]  # 3,932 字 by Word's count
    plain_rate = rate(plain, context, args.seconds)
    docx_rate = rate(with_docx, context, args.seconds)
    print(f"corpus: {len(plain)} messages, {plain_rate:,.0f} messages/s", file=sys.stderr)
    print(f"with a ~4000-字 .docx: {docx_rate:,.0f} messages/s", file=sys.stderr)
    print(json.dumps({"plain_per_s": round(plain_rate, 1), "docx_per_s": round(docx_rate, 1)}))


if __name__ == "__main__":
    main()
