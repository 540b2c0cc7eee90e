"""encoding: the subject, sender name and body decode to readable Chinese (中文显示)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

#: Where the problem is, as the notice names it.
_PARTS: Mapping[str, str] = {"subject": "主题", "body": "正文", "from": "发件人"}

_RESEND = (
    "请在邮件客户端中将发送邮件的编码设为 GB18030（或 GBK）或 UTF-8"
    "（Foxmail、Outlook 在“编码”设置中选择），然后重新报送。"
)


class Encoding:
    name: ClassVar[str] = "encoding"
    description: ClassVar[str] = (
        "subject and body decode to readable Chinese: no undeclared 8-bit, no mojibake"
    )
    severity: ClassVar[Severity] = Severity.REJECT
    #: Nothing else can be judged on text that could not be read.
    final: ClassVar[bool] = True
    messages: ClassVar[Mapping[str, str]] = {
        "undeclared_8bit": "邮件{part}含有中文，但没有声明字符编码，收件方无法正确显示。" + _RESEND,
        "unknown_charset": "邮件{part}声明的字符编码“{detail}”无法识别，收件方无法显示中文。" + _RESEND,
        "undecodable": "邮件{part}的内容与声明的字符编码不符，无法解码为中文。" + _RESEND,
        "mojibake": "邮件{part}显示为乱码（字符编码设置有误）。" + _RESEND,
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        for issue in submission.encoding_issues:
            yield Finding(
                self.name,
                self.severity,
                reason=issue.problem.value,
                params={"part": _PARTS.get(issue.part, issue.part), "detail": issue.detail},
            )


rule = Encoding()
