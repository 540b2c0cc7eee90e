"""Turning findings into the Chinese sentences that tell a sender what to change."""

from __future__ import annotations

from collections.abc import Mapping

from mailgate.mail.folding import to_traditional
from rules.base import Finding
from rules.registry import RuleRegistry


def render(
    finding: Finding,
    rules: RuleRegistry,
    *,
    overrides: Mapping[str, str] | None = None,
    traditional: bool = False,
) -> str:
    """The message for ``finding``: an operator override if configured, else the rule's template."""
    overrides = overrides or {}
    template = overrides.get(f"{finding.rule}.{finding.reason}") or overrides.get(finding.rule)
    if template is None and finding.rule in rules:
        messages = rules[finding.rule].messages
        template = messages.get(finding.reason) or messages.get("default")
    if template is None:
        template = f"{finding.rule}：{finding.reason}"
    try:
        text = template.format_map(dict(finding.params))
    except (KeyError, IndexError, ValueError):
        text = template
    return to_traditional(text) if traditional else text
