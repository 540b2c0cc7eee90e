"""size-limit: the message is within the configured size (25 MB by default)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

_MB = 1024 * 1024


class SizeLimit:
    name: ClassVar[str] = "size-limit"
    description: ClassVar[str] = "the message is within the configured size (default 25 MB)"
    severity: ClassVar[Severity] = Severity.REJECT
    #: A message this large was not parsed in full, so nothing else can be checked.
    final: ClassVar[bool] = True
    messages: ClassVar[Mapping[str, str]] = {
        "default": "邮件大小为 {size_mb} MB，超过 {limit_mb} MB 的上限，无法处理。"
        "请删除不必要的附件和图片，将详细材料整理为一个较小的 Word 文档附件"
        "（不超过 {attachment_limit} 字）后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        limit = context.settings.max_message_bytes
        if submission.raw_size > limit or submission.truncated:
            yield Finding(
                self.name,
                self.severity,
                params={
                    "size": submission.raw_size,
                    "limit": limit,
                    "size_mb": _megabytes(submission.raw_size, round_up=True),
                    "limit_mb": _megabytes(limit),
                    "attachment_limit": context.settings.attachment_max_zi,
                },
            )


def _megabytes(size: int, *, round_up: bool = False) -> str:
    """``size`` bytes in MB with one decimal; rounded up for sizes, so "over the limit" always shows."""
    tenths = size * 10 / _MB
    return f"{(math.ceil(tenths) if round_up else round(tenths)) / 10:.1f}"


rule = SizeLimit()
