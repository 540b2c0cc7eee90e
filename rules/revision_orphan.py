"""revision-orphan: a 【修改稿】 with no earlier item to revise is kept as a new item."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class RevisionOrphan:
    name: ClassVar[str] = "revision-orphan"
    description: ClassVar[str] = "a 【修改稿】 with no earlier item to revise (kept as a new item)"
    severity: ClassVar[Severity] = Severity.WARN
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "主题标有【修改稿】，但没有找到贵单位此前报送的“{title}”，本稿已作为新信息登记。"
        "如要修改此前报送的信息，请直接回复原稿的回执邮件，或在主题中使用与原稿完全相同的标题，"
        "例如“【{identifier}】【修改稿】原稿标题”。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        if not submission.subject.revision or context.history.prior_item is not None:
            return
        params = {
            "title": submission.subject.title,
            "identifier": submission.subject.identifier or "标识",
            "in_reply_to": submission.in_reply_to or "",
        }
        yield Finding(self.name, self.severity, params=params)


rule = RevisionOrphan()
