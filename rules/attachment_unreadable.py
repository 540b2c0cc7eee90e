"""attachment-unreadable: the Word attachment opens and its text can be read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class AttachmentUnreadable:
    name: ClassVar[str] = "attachment-unreadable"
    description: ClassVar[str] = (
        "the Word document opens and its text can be read (not encrypted, not corrupt)"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "encrypted": "Word 附件“{filename}”设置了打开密码，无法读取。请取消文档密码后重新报送。",
        "corrupt": "Word 附件“{filename}”已损坏，无法打开。请用 Word 打开并另存为 .doc 或 .docx 文件，"
        "确认能正常打开后重新报送。",
        "too_large": "Word 附件“{filename}”内容过大，无法读取。请删除文档中的图片等非文字内容，"
        "正文控制在 {limit} 字以内后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        for attachment in submission.attachments:
            word = attachment.word
            if word is None or word.problem is None:
                continue
            params = {
                "filename": attachment.filename or attachment.content_type,
                "kind": word.kind.value,
                "limit": context.settings.attachment_max_zi,
            }
            yield Finding(self.name, self.severity, word.problem.value, params)


rule = AttachmentUnreadable()
