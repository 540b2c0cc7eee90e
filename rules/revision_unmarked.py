"""revision-unmarked: a second item with the same title from the same unit must be marked 【修改稿】."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class RevisionUnmarked:
    name: ClassVar[str] = "revision-unmarked"
    description: ClassVar[str] = (
        "an item with the same title from the same unit exists and 【修改稿】 is missing"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "贵单位已报送过同一条信息“{title}”（编号 {tracking}）。"
        "如本邮件是修改稿，请在主题栏加上【修改稿】，例如“【{identifier}】【修改稿】{title}”，然后重新报送；"
        "如是另一条信息，请另拟标题。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        prior = context.history.prior_item
        if prior is None or submission.subject.revision:
            return
        identifier = submission.subject.identifier or prior.unit
        params = {
            "tracking": prior.tracking,
            "title": prior.title,
            "identifier": identifier,
            "linked_by": prior.linked_by,
        }
        yield Finding(self.name, self.severity, params=params)


rule = RevisionUnmarked()
