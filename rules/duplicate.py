"""duplicate: a message already processed (same Message-ID, else same content) is not answered again."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

#: How each way of recognising a message is named in messages.
_KEY_NAMES: Mapping[str, str] = {
    "message-id": "邮件标识（Message-ID）",
    "content-hash": "邮件内容",
}


class Duplicate:
    name: ClassVar[str] = "duplicate"
    description: ClassVar[str] = "the same message (Message-ID, else content hash) was already processed"
    severity: ClassVar[Severity] = Severity.IGNORE
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "这封邮件已经处理过（按{key}识别为重复），不再重复答复；"
        "如需修改已报送的信息，请在主题中加上【修改稿】重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        seen_by = context.history.seen_by
        if seen_by is None:
            return
        yield Finding(
            self.name,
            self.severity,
            params={
                "by": seen_by,
                "key": _KEY_NAMES.get(seen_by, seen_by),
                "message_id": submission.message_id or "",
                "content_hash": submission.content_hash,
            },
        )


rule = Duplicate()
