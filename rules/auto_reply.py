"""auto-reply: auto-replies, bounces, mailing-list traffic and our own notices get no answer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


class AutoReply:
    name: ClassVar[str] = "auto-reply"
    description: ClassVar[str] = "auto-replies, bounces, list mail and our own notices are not answered"
    severity: ClassVar[Severity] = Severity.IGNORE
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "auto_submitted": "邮件带有 Auto-Submitted: {value}，是自动发送的邮件，不予答复。",
        "precedence": "邮件带有 Precedence: {value}，是群发或自动邮件，不予答复。",
        "list": "邮件带有 {value} 头，是邮件列表邮件，不予答复；请直接向信箱报送信息。",
        "null_return_path": "邮件的退信地址为空（<>），是退信或系统通知，不予答复。",
        "mailer_daemon": "发件人 {value} 是邮件系统地址，是退信或系统通知，不予答复。",
        "loop": "邮件带有本系统的 X-Loop: {value} 标记，是本系统发出的通知，不予答复。",
        "autoreply_header": "邮件带有 {value} 头，是自动回复，不予答复。",
        "report": "邮件类型为 {value}，是投递状态报告（退信），不予答复。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        signal = _signal(submission, context.settings.loop_marker)
        if signal is not None:
            reason, value = signal
            yield Finding(self.name, self.severity, reason, {"value": value})


def _signal(submission: Submission, loop_marker: str) -> tuple[str, str] | None:
    """The first sign that the message was sent by a machine: (reason, the value that shows it)."""
    auto_submitted = submission.header("auto-submitted")
    if auto_submitted is not None and _token(auto_submitted) != "no":
        return "auto_submitted", auto_submitted.strip()
    precedence = submission.header("precedence")
    if precedence is not None and _token(precedence) in _BULK_PRECEDENCE:
        return "precedence", precedence.strip()
    for list_header in ("List-Id", "List-Unsubscribe"):
        if submission.header(list_header) is not None:
            return "list", list_header
    if submission.return_path == "":
        return "null_return_path", "<>"
    local_part = (submission.from_address or "").rpartition("@")[0].lower()
    if local_part in _DAEMON_LOCAL_PARTS:
        return "mailer_daemon", submission.from_address or ""
    marker = loop_marker.strip().lower()
    if marker and any(v.strip().lower() == marker for v in submission.header_values("x-loop")):
        return "loop", loop_marker
    for autoreply_header in ("X-Autoreply", "X-Autorespond"):
        if submission.header(autoreply_header) is not None:
            return "autoreply_header", autoreply_header
    content_type = submission.header("content-type")
    if content_type is not None and _token(content_type) == "multipart/report":
        return "report", "multipart/report"
    return None


def _token(value: str) -> str:
    """The leading token of a structured header value, without parameters, lower-cased."""
    return value.split(";", 1)[0].strip().lower()


rule = AutoReply()
