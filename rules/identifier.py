"""identifier: the subject's 【标识】 is the sending officer's own unit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class Identifier:
    name: ClassVar[str] = "identifier"
    description: ClassVar[str] = "the subject's 标识 is the sender's own unit"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "unknown": "主题中的标识【{identifier}】不是已登记的单位标识。"
        "请把主题中的标识改为本单位的【{expected}】后重新报送。",
        "other_unit": "主题中的标识【{identifier}】是{named_unit}的标识，而发件人登记在{unit_name}。"
        "请把主题中的标识改为本单位的【{expected}】后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        identifier = (submission.subject.identifier or "").strip()
        officer = context.officer_for(submission)
        if officer is None or not identifier:
            return  # unregistered-sender and required-elements report these
        own = context.registry.units.get(officer.unit)
        if own is None:
            return
        params = {"identifier": identifier, "expected": own.id, "unit_name": own.name}
        named = context.registry.unit_named(identifier)
        if named is None:
            yield Finding(self.name, self.severity, "unknown", params)
        elif named.id != own.id:
            params |= {"named_unit": named.name, "named_id": named.id}
            yield Finding(self.name, self.severity, "other_unit", params)


rule = Identifier()
