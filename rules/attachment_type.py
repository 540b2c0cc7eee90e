"""attachment-type: every attachment is a Word document (.doc, .docx or .wps, by content)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class AttachmentType:
    name: ClassVar[str] = "attachment-type"
    description: ClassVar[str] = "every attachment is a Word document"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "附件 {files} 不是 Word 文档。详细材料只能以 Word 文档（.doc、.docx 或 .wps）附件报送，"
        "请删除其他附件，或将其内容整理成 Word 文档后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        others = [a for a in submission.attachments if a.word is None]
        if others:
            names = [a.filename or a.content_type for a in others]
            params = {
                "files": "、".join(names),
                "count": len(others),
                "content_types": "、".join(a.content_type for a in others),
            }
            yield Finding(self.name, self.severity, params=params)


rule = AttachmentType()
