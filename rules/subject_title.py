"""subject-title: the subject's title equals the body's title line, after folding."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.folding import fold
from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class SubjectTitle:
    name: ClassVar[str] = "subject-title"
    description: ClassVar[str] = "the subject's title equals the body's title line (after folding)"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "“主题”栏目的标题“{subject_title}”与正文第一行的标题“{body_title}”不一致。"
        "请使主题中【标识】后面的标题与正文标题完全一致后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        subject_title = submission.subject.title.strip()
        body_title = (submission.parts.title or "").strip()
        if not subject_title or not body_title:
            return  # required-elements reports a missing title
        if fold(subject_title) != fold(body_title):
            params = {"subject_title": subject_title, "body_title": body_title}
            yield Finding(self.name, self.severity, params=params)


rule = SubjectTitle()
