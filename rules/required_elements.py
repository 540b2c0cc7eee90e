"""required-elements: 标识, 标题, 正文, 作者单位, 姓名, 联系电话 and 日期 are all present and readable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context


class RequiredElements:
    name: ClassVar[str] = "required-elements"
    description: ClassVar[str] = (
        "all seven elements present: 标识, 标题, 正文, 作者单位, 姓名, 联系电话, 日期"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "missing": "信息缺少以下要素：{missing}。请按要求补齐后重新报送：主题写成“【标识】标题”，"
        "正文第一行写标题，标题下面写正文，正文末尾落款写明作者单位、姓名、联系电话和日期。",
        "bad_phone": "落款中的联系电话“{phone}”不是有效的电话号码。"
        "请填写固定电话（可带区号和分机号，如 020-38622000）或 11 位手机号码后重新报送。",
        "bad_date": "落款中的日期“{date_text}”不是有效的日期。"
        "请写成“2004年1月8日”或“2004-01-08”这样的日期后重新报送。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        missing = [element for element, present in _elements(submission) if not present]
        if missing:
            params = {"missing": "、".join(missing), "elements": tuple(missing)}
            yield Finding(self.name, self.severity, "missing", params)
        signature = submission.parts.signature
        if signature is None:
            return
        if _filled(signature.phone) and not signature.phone_valid:
            yield Finding(self.name, self.severity, "bad_phone", {"phone": signature.phone})
        if _filled(signature.date_text) and signature.date is None:
            yield Finding(self.name, self.severity, "bad_date", {"date_text": signature.date_text})


def _elements(submission: Submission) -> list[tuple[str, bool]]:
    """Each element's name and whether the submission has it, in the order the notice lists them."""
    subject, parts = submission.subject, submission.parts
    signature = parts.signature
    return [
        ("标识", _filled(subject.identifier)),
        ("标题", _filled(subject.title) and _filled(parts.title)),
        ("正文", _filled(parts.main)),
        ("作者单位", signature is not None and _filled(signature.unit)),
        ("姓名", signature is not None and _filled(signature.name)),
        ("联系电话", signature is not None and _filled(signature.phone)),
        ("日期", signature is not None and (signature.date is not None or _filled(signature.date_text))),
    ]


def _filled(text: str | None) -> bool:
    return text is not None and bool(text.strip())


rule = RequiredElements()
