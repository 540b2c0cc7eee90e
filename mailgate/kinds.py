"""The shared vocabulary below every layer: the two watched inboxes."""

from __future__ import annotations

import enum


class Inbox(enum.StrEnum):
    """The two watched mailboxes."""

    DAILY = "daily"  # 日常信息
    COMMISSIONED = "commissioned"  # 約稿信息
