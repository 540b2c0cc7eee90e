"""Sample replies that reach every branch of the default templates, to check templates at start."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailgate.replies._model import Original, ReplyFinding

_RECEIVED = dt.datetime(2004, 1, 8, 10, 32, tzinfo=dt.timezone(dt.timedelta(hours=8)))

#: A revised, urgent, commissioned answer with an attachment, threaded under an earlier message.
FULL_ORIGINAL = Original(
    message_id="sample.1@th.gz.gov.cn",
    references=("sample.0@th.gz.gov.cn",),
    subject="【天河区】【修改稿】【紧急】【约稿:2004-01】天河区启动春运安全大检查",
    sender="xxy@th.gz.gov.cn",
    sender_name="天河区政府办 张三",
    received_at=_RECEIVED,
)
FULL_ITEM: dict[str, Any] = {
    "tracking": "20040108-000042",
    "unit": "天河区",
    "title": "天河区启动春运安全大检查",
    "inbox": "commissioned",
    "counting": "word",
    "body_chars": 386,
    "attachment_chars": 2150,
    "attachment_name": "春运安全大检查.doc",
    "officer": "张三",
    "phone": "020-38622000",
    "date": "2004-01-08",
    "revision": True,
    "revision_number": 2,
    "revises": "20040107-000031",
    "urgent": True,
    "commissioned": True,
    "commission_code": "2004-01",
}
FINDINGS = (
    ReplyFinding("body-length", "reject", "正文共 512 字，超过 450 字的上限，请删减至少 62 字。"),
    ReplyFinding("stale-date", "warn", "落款日期 2003年12月20日 早于收件日期 7 天以上，请核对日期。"),
)

#: A first draft with no attachment, no Message-ID, no display name and every optional fact missing.
BARE_ORIGINAL = Original(
    message_id=None,
    references=(),
    subject="【天河区】天河区启动春运安全大检查",
    sender="xxy@th.gz.gov.cn",
    sender_name="",
    received_at=_RECEIVED,
)
BARE_ITEM: dict[str, Any] = {
    **FULL_ITEM,
    "inbox": "daily",
    "counting": "chars",
    "attachment_chars": None,
    "attachment_name": None,
    "officer": None,
    "phone": None,
    "date": None,
    "revision": False,
    "revision_number": 1,
    "revises": None,
    "urgent": False,
    "commissioned": False,
    "commission_code": None,
}
