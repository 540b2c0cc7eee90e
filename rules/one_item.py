"""one-item: one item per email: one title, 正文 and 落款, and at most one Word attachment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.counting import CountMode, count_zi
from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

#: Text after the 落款 shorter than this ("谢谢！", "（完）", a name) is a sign-off, not a second item.
TRAILING_ITEM_MIN_ZI = 20


class OneItem:
    name: ClassVar[str] = "one-item"
    description: ClassVar[str] = (
        "one item per email: one title, one 正文, one 落款, at most one Word attachment"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "several_items": "邮件正文中有 {signatures} 个落款，或落款之后还有其他信息内容，"
        "看来报送了不止一条信息。一封电子邮件只报送 1 条信息，请把每条信息分别用一封邮件重新报送。",
        "several_attachments": "邮件附有 {count} 个 Word 文档（{files}）。"
        "每条信息只能附 1 个 Word 文档作为详细材料，请合并为一个文档，或分成多封邮件重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        parts = submission.parts
        trailing = count_zi(parts.trailing, CountMode.CHARS)
        if parts.signature_count > 1 or trailing >= TRAILING_ITEM_MIN_ZI:
            params = {"signatures": parts.signature_count, "trailing": parts.trailing.strip()[:200]}
            yield Finding(self.name, self.severity, "several_items", params)
        documents = [a for a in submission.attachments if a.word is not None]
        if len(documents) > 1:
            files = "、".join(a.filename or a.content_type for a in documents)
            params = {"count": len(documents), "files": files}
            yield Finding(self.name, self.severity, "several_attachments", params)


rule = OneItem()
