"""sender-name: the From display name shows the unit's name, identifier or a registered alias."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.folding import fold
from mailgate.mail.model import Submission
from mailgate.registry import Registry
from rules.base import Finding, Severity
from rules.context import Context

_SET_NAME = "请在邮件客户端的账户设置中把发件人显示名称设为本单位名称，例如“{unit_name}”，然后重新报送。"


class SenderName:
    name: ClassVar[str] = "sender-name"
    description: ClassVar[str] = "the From display name shows the unit's name, identifier or an alias"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "missing": "“发件人”栏目没有显示单位名称。" + _SET_NAME,
        "default": "“发件人”栏目显示为“{display_name}”，没有显示单位名称。" + _SET_NAME,
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        officer = context.officer_for(submission)
        if officer is None:
            return  # unregistered-sender reports this
        unit = context.registry.units.get(officer.unit)
        if unit is None:
            return
        shown = fold(submission.from_name)
        if any(key in shown for key in Registry.keys_of(unit)):
            return
        params = {
            "display_name": submission.from_name,
            "unit_id": unit.id,
            "unit_name": unit.name,
            "accepted": "、".join((unit.id, unit.name, *unit.aliases)),
        }
        reason = "default" if submission.from_name.strip() else "missing"
        yield Finding(self.name, self.severity, reason, params)


rule = SenderName()
