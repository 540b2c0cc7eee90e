"""unregistered-sender: the From address belongs to a registered, active officer (信息员登记备案)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

_REGISTER = (
    "请使用已登记备案的信息员邮箱报送；如信息员有变动，请先向市政府办公厅新闻信息处"
    "登记信息员的姓名、职务、联系电话和电子邮件地址。"
)


class UnregisteredSender:
    name: ClassVar[str] = "unregistered-sender"
    description: ClassVar[str] = "the From address is a registered officer (信息员登记备案)"
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "missing": "邮件没有可识别的发件人地址。" + _REGISTER,
        "unknown": "发件地址 {address} 不是已登记备案的信息员邮箱。" + _REGISTER,
        "inactive": "发件地址 {address} 登记的信息员（{officer}）已停用。" + _REGISTER,
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        if context.officer_for(submission) is not None:
            return
        address = submission.from_address or ""
        if not address:
            yield Finding(self.name, self.severity, "missing", {"address": ""})
            return
        listed = context.registry.officers.get(address.strip().lower())
        if listed is None:
            yield Finding(self.name, self.severity, "unknown", {"address": address})
        else:
            params = {"address": address, "officer": listed.name, "unit": listed.unit}
            yield Finding(self.name, self.severity, "inactive", params)


rule = UnregisteredSender()
