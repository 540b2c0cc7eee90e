"""The submission rules of SPEC.md, one module each, and the engine that runs them."""

from __future__ import annotations

import importlib

from mailgate.kinds import Inbox
from rules.base import Finding, Outcome, Rule, Severity, Verdict
from rules.context import Context, History, PriorItem
from rules.engine import evaluate
from rules.messages import duration_text, render
from rules.registry import DuplicateRuleError, RuleRegistry

#: Rule modules in evaluation order: cheap checks and the ones that end evaluation come first.
RULE_MODULES: tuple[str, ...] = (
    "auto_reply",
    "spoofed_sender",
    "duplicate",
    "size_limit",
    "encoding",
    "unregistered_sender",
    "sender_name",
    "identifier",
    "wrong_inbox",
    "required_elements",
    "subject_title",
    "one_item",
    "body_length",
    "attachment_type",
    "attachment_unreadable",
    "attachment_length",
    "revision_unmarked",
    "revision_orphan",
    "clock_skew",
    "stale_date",
)


def default_rules() -> RuleRegistry:
    """A registry holding every rule of SPEC.md, in evaluation order."""
    registry = RuleRegistry()
    for module_name in RULE_MODULES:
        module = importlib.import_module(f"rules.{module_name}")
        registry.register(module.rule)
    return registry


__all__ = [
    "RULE_MODULES",
    "Context",
    "DuplicateRuleError",
    "Finding",
    "History",
    "Inbox",
    "Outcome",
    "PriorItem",
    "Rule",
    "RuleRegistry",
    "Severity",
    "Verdict",
    "default_rules",
    "duration_text",
    "evaluate",
    "render",
]
