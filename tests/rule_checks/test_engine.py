"""The rule set as a whole: ids and order, the Rule contract, the registry and the engine's stops."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest

from mailgate.config import RulesSettings
from mailgate.mail.model import EncodingIssue, EncodingProblem, Submission
from rules import (
    RULE_MODULES,
    Context,
    DuplicateRuleError,
    History,
    Outcome,
    Rule,
    RuleRegistry,
    Severity,
    default_rules,
    evaluate,
)

#: SPEC.md's rule table: id and default severity, in evaluation order.
SPEC_RULES = {
    "auto-reply": "ignore",
    "spoofed-sender": "ignore",
    "duplicate": "ignore",
    "size-limit": "reject",
    "encoding": "reject",
    "unregistered-sender": "reject",
    "sender-name": "reject",
    "identifier": "reject",
    "wrong-inbox": "reject",
    "required-elements": "reject",
    "subject-title": "reject",
    "one-item": "reject",
    "body-length": "reject",
    "attachment-type": "reject",
    "attachment-unreadable": "reject",
    "attachment-length": "reject",
    "revision-unmarked": "reject",
    "revision-orphan": "warn",
    "clock-skew": "warn",
    "stale-date": "warn",
}


def test_default_rules_are_the_spec_ids_in_order() -> None:
    registry = default_rules()
    assert registry.names() == list(SPEC_RULES)
    assert {r.name: r.severity.value for r in registry} == SPEC_RULES


@pytest.mark.parametrize("module_name", RULE_MODULES)
def test_each_module_follows_the_rule_contract(module_name: str) -> None:
    module = importlib.import_module(f"rules.{module_name}")
    rule = module.rule
    assert isinstance(rule, Rule)
    assert rule.name == module_name.replace("_", "-")
    doc = module.__doc__ or ""
    assert doc.startswith(f"{rule.name}: ")
    assert "\n" not in doc
    assert rule.messages
    assert all(isinstance(m, str) and m for m in rule.messages.values())
    assert rule.final == (rule.name in {"size-limit", "encoding"})


def test_duplicates_are_refused() -> None:
    registry = RuleRegistry()
    rule = default_rules()["duplicate"]
    registry.register(rule)
    with pytest.raises(DuplicateRuleError):
        registry.register(rule)
    assert len(registry) == 1


def test_clean_submission_is_accepted(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    verdict = evaluate(make_submission(), make_context(), default_rules())
    assert verdict.outcome is Outcome.ACCEPTED
    assert verdict.findings == ()


def test_every_problem_is_reported_in_rule_order(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    submission = make_submission(from_name="张三", subject={"title": "别的标题", "revision": True}, date=None)
    verdict = evaluate(submission, make_context(), default_rules())
    assert verdict.outcome is Outcome.REJECTED
    assert [f.rule for f in verdict.findings] == [
        "sender-name",
        "subject-title",
        "revision-orphan",
        "clock-skew",
    ]
    assert [f.rule for f in verdict.warnings] == ["revision-orphan", "clock-skew"]


def test_severities_can_be_overridden_and_turned_off(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    submission = make_submission(date=None)
    stricter = make_context(settings=RulesSettings(severities={"clock-skew": "reject"}))
    verdict = evaluate(submission, stricter, default_rules())
    assert verdict.outcome is Outcome.REJECTED
    assert [(f.rule, f.severity) for f in verdict.findings] == [("clock-skew", Severity.REJECT)]
    off = make_context(settings=RulesSettings(severities={"clock-skew": "off"}))
    assert evaluate(submission, off, default_rules()).findings == ()


def test_ignore_stops_evaluation(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    submission = make_submission(from_address="someone@163.com", raw_size=10**9, date=None)
    verdict = evaluate(submission, make_context(history=History(seen_by="message-id")), default_rules())
    assert verdict.outcome is Outcome.IGNORED
    assert [f.rule for f in verdict.findings] == ["duplicate"]
    assert verdict.ignored_by is not None
    assert verdict.ignored_by.rule == "duplicate"


def test_final_rule_stops_evaluation(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    issues = (
        EncodingIssue("subject", EncodingProblem.MOJIBAKE),
        EncodingIssue("body", EncodingProblem.MOJIBAKE),
    )
    submission = make_submission(encoding_issues=issues, from_address="someone@163.com", date=None)
    verdict = evaluate(submission, make_context(), default_rules())
    assert [f.rule for f in verdict.findings] == ["encoding", "encoding"]
    assert verdict.outcome is Outcome.REJECTED


def test_final_rule_turned_to_warn_still_stops(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context]
) -> None:
    context = make_context(settings=RulesSettings(severities={"size-limit": "warn"}))
    verdict = evaluate(make_submission(truncated=True, date=None), context, default_rules())
    assert [(f.rule, f.severity) for f in verdict.findings] == [("size-limit", Severity.WARN)]
    assert verdict.outcome is Outcome.ACCEPTED
