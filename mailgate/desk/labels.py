"""The Chinese names the desk and the command line give to verdicts, inboxes, replies and reply states."""

from __future__ import annotations

VERDICT_LABELS = {"accepted": "受理", "rejected": "退稿", "ignored": "不予答复", "quarantined": "隔离"}
REPLY_LABELS = {"receipt": "回执", "rejection": "退稿通知", "stranger": "登记提示", "alert": "紧急提醒"}
OUTBOX_LABELS = {
    "pending": "待发送",
    "claimed": "发送中",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "unknown": "结果不明",
    "suppressed": "不发送",
}
#: Short names for tables; the pages say 日常信息 / 约稿信息.
INBOX_SHORT = {"daily": "日常", "commissioned": "约稿"}
