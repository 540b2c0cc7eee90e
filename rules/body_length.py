"""body-length: the 正文 between title and 落款 is at most the configured number of 字 (450)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.counting import count_zi
from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class BodyLength:
    name: ClassVar[str] = "body-length"
    description: ClassVar[str] = "正文 is at most 450 字 (configurable)"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "正文共 {count} 字，超过 {limit} 字上限，请删减 {excess} 字后重新报送"
        "（详细材料可作为 Word 附件报送，不超过 {attachment_limit} 字）。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        limit = context.settings.body_max_zi
        count = count_zi(submission.parts.main, context.settings.counting)
        if count > limit:
            yield Finding(
                self.name,
                self.severity,
                params={
                    "count": count,
                    "limit": limit,
                    "excess": count - limit,
                    "attachment_limit": context.settings.attachment_max_zi,
                },
            )


rule = BodyLength()
