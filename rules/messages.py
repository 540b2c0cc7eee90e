"""Turning findings into the Chinese sentences that tell a sender what to change."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from mailgate.mail.excerpt import excerpt
from mailgate.mail.folding import to_traditional
from rules.base import Finding
from rules.registry import RuleRegistry

_UNITS = {False: ("天", "小时", "分钟"), True: ("天", "小時", "分鐘")}


def duration_text(delta: dt.timedelta, *, traditional: bool = False) -> str:
    """``delta`` as people say it: "5 天 17 小时", "3 小时 20 分钟", "59 分钟" (its sign is dropped).

    Whole minutes, rounded up (a skew of 15 minutes and a second reads as 16 分钟, beyond a limit of
    15); zero parts are left out; once days are shown, minutes are not."""
    minutes = math.ceil(abs(delta.total_seconds()) / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    day, hour, minute = _UNITS[traditional]
    if days:
        parts = [(days, day), (hours, hour)]
    elif hours:
        parts = [(hours, hour), (minutes, minute)]
    else:
        return f"{minutes} {minute}"
    return " ".join(f"{count} {unit}" for count, unit in parts if count)


def render(
    finding: Finding,
    rules: RuleRegistry,
    *,
    overrides: Mapping[str, str] | None = None,
    traditional: bool = False,
) -> str:
    """The message for ``finding``: an operator override if configured, else the rule's template.

    Text the sender wrote that a message quotes (a title, a name, a file name) is cut to a short
    excerpt and loses its links, so that a notice never carries a long text or a link back."""
    overrides = overrides or {}
    template = overrides.get(f"{finding.rule}.{finding.reason}") or overrides.get(finding.rule)
    if template is None and finding.rule in rules:
        messages = rules[finding.rule].messages
        template = messages.get(finding.reason) or messages.get("default")
    if template is None:
        template = f"{finding.rule}：{finding.reason}"
    try:
        text = template.format_map(_quoted(finding.params))
    except (KeyError, IndexError, ValueError):
        text = template
    return to_traditional(text) if traditional else text


def _quoted(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: excerpt(value) if isinstance(value, str) else value for key, value in params.items()}
