"""attachment-length: the Word attachment's text is at most the configured number of 字 (4000)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.counting import count_zi
from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class AttachmentLength:
    name: ClassVar[str] = "attachment-length"
    description: ClassVar[str] = "the Word document's text is at most 4000 字 (configurable)"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "Word 附件“{filename}”共 {count} 字，超过 {limit} 字上限。请删减 {excess} 字后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        limit = context.settings.attachment_max_zi
        for attachment in submission.attachments:
            word = attachment.word
            if word is None or word.problem is not None or word.text is None:
                continue
            count = count_zi(word.text, context.settings.counting)
            if count > limit:
                yield Finding(
                    self.name,
                    self.severity,
                    params={
                        "filename": attachment.filename or attachment.content_type,
                        "count": count,
                        "limit": limit,
                        "excess": count - limit,
                    },
                )


rule = AttachmentLength()
