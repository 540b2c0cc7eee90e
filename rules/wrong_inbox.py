"""wrong-inbox: 【约稿】 items go to the commissioned inbox, everything else to the daily inbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.kinds import Inbox
from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class WrongInbox:
    name: ClassVar[str] = "wrong-inbox"
    description: ClassVar[str] = (
        "a 【约稿】 item went to the daily inbox, or a daily item to the commissioned one"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "commissioned_to_daily": "主题标有【约稿】，但邮件发到了日常信息信箱。"
        "约稿信息请发送到约稿信息信箱；如不是约稿信息，请删去主题中的【约稿】后重新报送。",
        "daily_to_commissioned": "邮件发到了约稿信息信箱，但主题没有标明【约稿】。"
        "如是约稿信息，请在主题中加上【约稿】（或【约稿:编号】）后重新报送；"
        "如是日常信息，请发送到日常信息信箱。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        commissioned = submission.subject.commissioned
        if commissioned and context.inbox is Inbox.DAILY:
            reason = "commissioned_to_daily"
        elif not commissioned and context.inbox is Inbox.COMMISSIONED:
            reason = "daily_to_commissioned"
        else:
            return
        params = {
            "inbox": context.inbox.value,
            "commission_code": submission.subject.commission_code or "",
        }
        yield Finding(self.name, self.severity, reason, params)


rule = WrongInbox()
